"""Validating telemetry events one by one: each bad field gets its own
message, and a bad event never reaches the database
(``chargepoints.services.batch.telemetry_record_batch`` stores the good ones)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import (
    ChargePointState,
    SignalKind,
)

EVENT_TYPES = ("state_change", "heartbeat", "signal", "charge", "boot")
MAX_CONNECTOR = 1000
# What a boot tells about the charge point (OCPP BootNotification).
BOOT_FIELDS = ("vendor", "model", "serial_number", "firmware_version")

# OCPP 1.6 connector statuses and the live state each one means here.
OCPP_STATUS_STATE: dict[str, str] = {
    "Available": ChargePointState.AVAILABLE,
    "Preparing": ChargePointState.BUSY,
    "Charging": ChargePointState.BUSY,
    "SuspendedEVSE": ChargePointState.BUSY,
    "SuspendedEV": ChargePointState.BUSY,
    "Finishing": ChargePointState.BUSY,
    "Reserved": ChargePointState.BUSY,
    "Unavailable": ChargePointState.PASSIVE,
    "Faulted": ChargePointState.ERROR,
}

# OCPP 1.6 StopTransaction reasons that mean something went wrong, as opposed
# to the driver or the back-office ending the charge (Local, Remote,
# EVDisconnected, DeAuthorized, ...).
FAULT_STOP_REASONS = frozenset({"EmergencyStop", "PowerLoss", "HardReset", "SoftReset", "Reboot"})

# A charger's clock may run a little ahead; further than this is a bad clock,
# and such an event would block every real one after it.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# Older than any charger on the platform: a dead clock battery, not history.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MIN_DBM, MAX_DBM = -150, 0
MAX_ENERGY_WH = 10_000_000  # 10 MWh: far beyond any single charge
# The choices' values once: ``TextChoices.values`` builds a new list on
# every call, a measurable part of validating a batch of 1,000.
STATES = frozenset(ChargePointState.values)
SIGNAL_KINDS = frozenset(SignalKind.values)



class InvalidEvent(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors


def _text(event: dict, name: str, errors: dict, *, max_length: int, required: bool) -> str:
    value = event.get(name)
    if value is None or value == "":
        if required:
            errors[name] = "This field is required."
        return ""
    if not isinstance(value, str):
        errors[name] = "Must be a string."
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = "This field is required."
    elif len(value) > max_length:
        errors[name] = f"Must be at most {max_length} characters."
    elif "\x00" in value:  # PostgreSQL refuses NUL in text
        errors[name] = "Must not contain NUL characters."
    return value


def _time(event: dict, name: str, errors: dict, *, now: datetime) -> datetime | None:
    value = event.get(name)
    if value is None or value == "":
        errors[name] = "This field is required."
        return None
    parsed = None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        errors[name] = "Must be an ISO 8601 date-time, e.g. 2026-05-01T12:00:00Z."
        return None
    if timezone.is_naive(parsed):
        errors[name] = "Must include a time zone (Z or an offset such as +02:00)."
        return None
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:  # e.g. year 1 with a positive offset: before year 1 in UTC
        errors[name] = "Is out of range."
        return None
    if parsed < EARLIEST:
        errors[name] = f"Is too far in the past (before {EARLIEST:%Y-%m-%d})."
        return None
    if parsed > now + MAX_CLOCK_SKEW:
        errors[name] = "Is in the future; check the charger's clock."
        return None
    return parsed


def _integer(event: dict, name: str, errors: dict, *, low: int, high: int) -> int | None:
    value = event.get(name)
    if value is None:
        errors[name] = "This field is required."
        return None
    # bool is an int in Python; true is not a signal strength.
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors[name] = "Must be a number."
        return None
    if isinstance(value, float) and not value.is_integer():
        errors[name] = "Must be a whole number."
        return None
    if not low <= value <= high:
        errors[name] = f"Must be between {low} and {high}."
        return None
    return int(value)


def telemetry_validate(event, *, now: datetime) -> dict:
    """The event's clean values, or InvalidEvent with every problem found."""
    if not isinstance(event, dict):
        raise InvalidEvent({"event": "Must be an object."})
    errors: dict[str, str] = {}
    clean: dict = {
        "event_id": _text(event, "event_id", errors, max_length=100, required=True),
        "ocpp_id": _text(event, "ocpp_id", errors, max_length=100, required=True),
    }
    kind = event.get("type")
    clean["type"] = kind
    if kind not in EVENT_TYPES:
        errors["type"] = f"Must be one of: {', '.join(EVENT_TYPES)}."
        raise InvalidEvent(errors)

    if kind == "charge":
        clean["started_at"] = _time(event, "started_at", errors, now=now)
        clean["ended_at"] = _time(event, "ended_at", errors, now=now)
        if clean["started_at"] and clean["ended_at"] and clean["ended_at"] < clean["started_at"]:
            errors["ended_at"] = "Must not be before started_at."
        clean["occurred_at"] = clean["ended_at"]
        clean["energy_wh"] = _integer(event, "energy_wh", errors, low=0, high=MAX_ENERGY_WH)
        clean["stop_reason"] = _text(event, "stop_reason", errors, max_length=50, required=False)
        clean["transaction_id"] = _text(event, "transaction_id", errors, max_length=100, required=False)
        clean["connector"] = None
        if event.get("connector") is not None:
            clean["connector"] = _integer(event, "connector", errors, low=1, high=MAX_CONNECTOR)
    else:
        clean["occurred_at"] = _time(event, "occurred_at", errors, now=now)

    if kind == "state_change":
        state = _text(event, "state", errors, max_length=20, required=False)
        status = _text(event, "status", errors, max_length=30, required=False)
        if state and state not in STATES:
            errors["state"] = f"Must be one of: {', '.join(ChargePointState.values)}."
        if status and status not in OCPP_STATUS_STATE:
            errors["status"] = f"Must be an OCPP 1.6 status: {', '.join(OCPP_STATUS_STATE)}."
        if not state and not status and "state" not in errors and "status" not in errors:
            errors["state"] = "Give the state, or the OCPP status it comes from."
        clean["state"] = state or OCPP_STATUS_STATE.get(status, "")
        clean["ocpp_status"] = status
        error_code = _text(event, "error_code", errors, max_length=50, required=False)
        clean["error_code"] = "" if error_code == "NoError" else error_code
        clean["vendor_error_code"] = _text(event, "vendor_error_code", errors, max_length=100, required=False)
        clean["connector"] = None
        if event.get("connector") is not None:
            clean["connector"] = _integer(event, "connector", errors, low=0, high=MAX_CONNECTOR)
    elif kind == "boot":
        for name in BOOT_FIELDS:
            clean[name] = _text(event, name, errors, max_length=100, required=False)
    elif kind == "signal":
        signal_kind = event.get("kind")
        # JSON may send a list or an object here: not hashable, not a kind.
        if not isinstance(signal_kind, str) or signal_kind not in SIGNAL_KINDS:
            errors["kind"] = f"Must be one of: {', '.join(SignalKind.values)}."
        clean["kind"] = signal_kind
        clean["dbm"] = _integer(event, "dbm", errors, low=MIN_DBM, high=MAX_DBM)

    if errors:
        raise InvalidEvent(errors)
    return clean


