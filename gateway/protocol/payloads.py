"""Reading what a charger sends: its timestamps (never later than now), the
SignalStrength DataTransfer's network and dBm, and the energy register of
its MeterValues.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

SIGNAL_MESSAGE_ID = "SignalStrength"
ENERGY = "Energy.Active.Import.Register"


def charger_time(value: str | None, *, now: datetime) -> datetime:
    """A charger's timestamp, never later than now: a clock running ahead
    must not make the gateway's own later events (a disconnect) look old."""
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return now
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return min(parsed.astimezone(UTC), now)


def _signal(data) -> tuple[str, int] | None:
    try:
        value = json.loads(data) if isinstance(data, str) else None
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    network, dbm = value.get("network"), value.get("dbm")
    if network not in ("wifi", "cellular") or isinstance(dbm, bool) or not isinstance(dbm, int | float):
        return None
    if not -150 <= dbm <= 0:
        return None
    return network, round(dbm)


def _energy_wh(meter_values: list[dict]) -> int | None:
    """The latest active energy import register reading, in Wh (the default
    measurand when none is named)."""
    latest = None
    for meter_value in meter_values:
        for sample in meter_value.get("sampled_value", []):
            if sample.get("measurand", ENERGY) != ENERGY or sample.get("phase"):
                continue
            try:
                value = float(sample["value"])
            except (KeyError, TypeError, ValueError):
                continue
            latest = round(value * 1000 if sample.get("unit") == "kWh" else value)
    return latest
