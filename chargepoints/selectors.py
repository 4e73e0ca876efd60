"""Reads on charge points' telemetry for the back-office pages."""

from __future__ import annotations

import datetime

from .models import Charge, SignalReading, StateChange


def telemetry_between(*, charge_point_id: int, start: datetime.datetime, end: datetime.datetime,
                      rows: int = 25) -> dict:
    """The newest ``rows`` state changes, signal readings and charges of a
    charge point in a time window (charges that overlap it)."""
    return {
        "start": start,
        "end": end,
        "state_changes": list(
            StateChange.objects.filter(charge_point_id=charge_point_id, occurred_at__range=(start, end))
            .order_by("-occurred_at", "-id")[:rows]
        ),
        "signals": list(
            SignalReading.objects.filter(charge_point_id=charge_point_id, occurred_at__range=(start, end))
            .order_by("-occurred_at", "-id")[:rows]
        ),
        "charges": list(
            Charge.objects.filter(charge_point_id=charge_point_id, ended_at__gte=start, started_at__lte=end)
            .order_by("-ended_at", "-id")[:rows]
        ),
    }


def telemetry_recent(*, charge_point_id: int, rows: int = 10) -> dict:
    """The latest telemetry of a charge point, for its page."""
    return {
        "state_changes": list(
            StateChange.objects.filter(charge_point_id=charge_point_id).order_by("-occurred_at", "-id")[:rows]
        ),
        "signals": list(
            SignalReading.objects.filter(charge_point_id=charge_point_id).order_by("-occurred_at", "-id")[:rows]
        ),
        "charges": list(Charge.objects.filter(charge_point_id=charge_point_id).order_by("-ended_at", "-id")[:rows]),
    }
