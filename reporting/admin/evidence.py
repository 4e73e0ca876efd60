"""The evidence on a report's page: what the charge point's telemetry said
around the time of the report (state changes, signal readings, charges).

The telemetry tables are read only if they exist in this build, so the admin
keeps working on a checkout without them.
"""

from __future__ import annotations

import datetime

from chargepoints import models as chargepoint_models

BEFORE = datetime.timedelta(hours=24)
AFTER = datetime.timedelta(hours=24)
ROWS = 25


def report_evidence(*, report) -> dict | None:
    state_changes = getattr(chargepoint_models, "StateChange", None)
    signals = getattr(chargepoint_models, "SignalReading", None)
    charges = getattr(chargepoint_models, "Charge", None)
    if state_changes is None or signals is None or charges is None:
        return None
    start = report.created_at - BEFORE
    end = max(report.last_seen_at or report.created_at, report.created_at) + AFTER
    cp_id = report.charge_point_id
    return {
        "start": start,
        "end": end,
        "state_changes": list(
            state_changes.objects.filter(charge_point_id=cp_id, occurred_at__range=(start, end))
            .order_by("-occurred_at", "-id")[:ROWS]
        ),
        "signals": list(
            signals.objects.filter(charge_point_id=cp_id, occurred_at__range=(start, end))
            .order_by("-occurred_at", "-id")[:ROWS]
        ),
        "charges": list(
            charges.objects.filter(charge_point_id=cp_id, ended_at__gte=start, started_at__lte=end)
            .order_by("-ended_at", "-id")[:ROWS]
        ),
    }


def charge_point_recent(*, charge_point, rows: int = 10) -> dict | None:
    """The latest telemetry of a charge point, for its page."""
    state_changes = getattr(chargepoint_models, "StateChange", None)
    signals = getattr(chargepoint_models, "SignalReading", None)
    charges = getattr(chargepoint_models, "Charge", None)
    if state_changes is None or signals is None or charges is None:
        return None
    cp_id = charge_point.pk
    return {
        "state_changes": list(state_changes.objects.filter(charge_point_id=cp_id).order_by("-occurred_at", "-id")[:rows]),
        "signals": list(signals.objects.filter(charge_point_id=cp_id).order_by("-occurred_at", "-id")[:rows]),
        "charges": list(charges.objects.filter(charge_point_id=cp_id).order_by("-ended_at", "-id")[:rows]),
    }
