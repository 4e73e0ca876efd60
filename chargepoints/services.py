"""Writes on charge points: recording telemetry.

``telemetry_record_batch`` is the one way telemetry gets in (the API's ingest
endpoint, the fleet simulator and the tests call it). It stores the history
rows and moves each charge point's live state forward in one transaction,
with a handful of queries per batch whatever its size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .connectors import connectors_apply
from .models import (
    Charge,
    ChargeOutcome,
    ChargePoint,
    ChargePointState,
    Heartbeat,
    SignalKind,
    SignalReading,
    StateChange,
)

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
REJECTED = "rejected"

EVENT_TYPES = ("state_change", "heartbeat", "signal", "charge", "boot")
MAX_CONNECTOR = 1000

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


@dataclass
class TelemetryResult:
    """What happened to one event of a batch, in the batch's order."""

    event_id: str | None
    status: str  # "accepted" | "duplicate" | "rejected"
    errors: dict[str, str] = field(default_factory=dict)


def charge_failure_reason(*, energy_wh: int, stop_reason: str, went_to_error: bool) -> str:
    """Why a charge failed, or "" when it did not. The brief's definition, in
    one place: it ended without delivering energy, or stopped for a fault
    reason, or its charge point went to error during it."""
    if energy_wh <= 0:
        return "No energy was delivered."
    if stop_reason in FAULT_STOP_REASONS:
        return f"Stopped for a fault reason ({stop_reason})."
    if went_to_error:
        return "The charge point went to error during the charge."
    return ""


# --- Validation -------------------------------------------------------------------


class _Invalid(Exception):
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


def _validate(event, *, now: datetime) -> dict:
    """The event's clean values, or _Invalid with every problem found."""
    if not isinstance(event, dict):
        raise _Invalid({"event": "Must be an object."})
    errors: dict[str, str] = {}
    clean: dict = {
        "event_id": _text(event, "event_id", errors, max_length=100, required=True),
        "ocpp_id": _text(event, "ocpp_id", errors, max_length=100, required=True),
    }
    kind = event.get("type")
    clean["type"] = kind
    if kind not in EVENT_TYPES:
        errors["type"] = f"Must be one of: {', '.join(EVENT_TYPES)}."
        raise _Invalid(errors)

    if kind == "charge":
        clean["started_at"] = _time(event, "started_at", errors, now=now)
        clean["ended_at"] = _time(event, "ended_at", errors, now=now)
        if clean["started_at"] and clean["ended_at"] and clean["ended_at"] < clean["started_at"]:
            errors["ended_at"] = "Must not be before started_at."
        clean["occurred_at"] = clean["ended_at"]
        clean["energy_wh"] = _integer(event, "energy_wh", errors, low=0, high=MAX_ENERGY_WH)
        clean["stop_reason"] = _text(event, "stop_reason", errors, max_length=50, required=False)
        clean["transaction_id"] = _text(event, "transaction_id", errors, max_length=100, required=False)
    else:
        clean["occurred_at"] = _time(event, "occurred_at", errors, now=now)

    if kind == "state_change":
        state = _text(event, "state", errors, max_length=20, required=False)
        status = _text(event, "status", errors, max_length=30, required=False)
        if state and state not in ChargePointState.values:
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
        if signal_kind not in SignalKind.values:
            errors["kind"] = f"Must be one of: {', '.join(SignalKind.values)}."
        clean["kind"] = signal_kind
        clean["dbm"] = _integer(event, "dbm", errors, low=MIN_DBM, high=MAX_DBM)

    if errors:
        raise _Invalid(errors)
    return clean


# --- Recording --------------------------------------------------------------------

# A boot is the charger saying hello: history-wise a heartbeat.
_MODELS = {"state_change": StateChange, "heartbeat": Heartbeat, "signal": SignalReading, "charge": Charge,
           "boot": Heartbeat}
BOOT_FIELDS = ("vendor", "model", "serial_number", "firmware_version")
UNKNOWN_CHARGE_POINT = "Unknown charge point."


def telemetry_record_batch(*, events: list[dict], actor=None) -> list[TelemetryResult]:
    """Record a batch of telemetry events; one result per event, in order.

    Each event is a dict. Every type has:

    - ``event_id`` (string, at most 100 characters): the sender's id for the
      event, unique per charge point and type. An event whose id was recorded
      before for the same charge point is answered ``duplicate`` and changes
      nothing; the same id on another charge point is another event.
    - ``type``: ``state_change``, ``heartbeat``, ``signal`` or ``charge``.
    - ``ocpp_id``: the charge box identity of the charge point.
    - ``occurred_at``: ISO 8601 date-time with a time zone (``Z`` or an
      offset), when it happened on the charger. Not used for charges.

    And per type:

    - ``state_change``: ``state`` (``available``, ``busy``, ``error``,
      ``disconnected``, ``passive``, ``unknown``) and/or the OCPP 1.6
      ``status`` it comes from (``Available``, ``Charging``, ``Faulted``, ...;
      ``state`` wins when both are given); optional ``error_code`` (OCPP's
      ChargePointErrorCode, e.g. ``GroundFailure``, ``WeakSignal``;
      ``NoError`` is stored as none) and ``vendor_error_code``. A CSMS
      reports a lost connection as ``state: disconnected``.
    - ``state_change`` may also name the ``connector`` (0 for the charger as
      a whole, 1, 2, ...): the status is then the connector's, and the
      charge point's state follows from all its connectors as
      ``chargepoints.connectors`` documents (the history row keeps the
      connector's own state).
    - ``heartbeat``: nothing more.
    - ``boot`` (the charger started, e.g. an OCPP BootNotification): optional
      ``vendor``, ``model``, ``serial_number``, ``firmware_version``; the
      given ones replace the charge point's. Otherwise a heartbeat.
    - ``signal``: ``kind`` (``wifi`` or ``cellular``) and ``dbm`` (a whole
      number from -150 to 0).
    - ``charge`` (sent when it ends): ``started_at``, ``ended_at`` (ISO 8601
      with a time zone), ``energy_wh`` (whole Wh, 0 or more), optional
      ``stop_reason`` (OCPP's StopTransaction reason, e.g. ``Local``,
      ``EmergencyStop``) and ``transaction_id``.

    A malformed event is answered ``rejected`` with ``errors`` (field ->
    message) and nothing of it is stored; the valid events of the batch are
    still recorded. Times more than five minutes in the future are rejected.
    ``actor`` (a user or an API key; ``None`` is the trusted system) may only
    send for charge points its teams own or operate; any other ``ocpp_id`` is
    rejected exactly like one that does not exist.

    The charge point's live state (state, state since, error codes, last
    heartbeat, latest Wi-Fi and cellular signal) moves forward in the same
    transaction. Late events are stored as history but never move the live
    state backwards: a state change not newer than the latest one applied (the
    first one applies whenever it happened), or a
    reading older than the latest reading, leaves it as it is. A heartbeat
    from a charge point marked disconnected means it is back: its state
    becomes ``unknown`` until it reports a status.
    """
    now = timezone.now()
    results: list[TelemetryResult] = []
    valid: list[tuple[int, dict]] = []
    for index, event in enumerate(events):
        event_id = event.get("event_id") if isinstance(event, dict) else None
        event_id = event_id if isinstance(event_id, str) and event_id else None
        try:
            clean = _validate(event, now=now)
        except _Invalid as invalid:
            results.append(TelemetryResult(event_id=event_id, status=REJECTED, errors=invalid.errors))
            continue
        results.append(TelemetryResult(event_id=clean["event_id"], status=ACCEPTED))
        valid.append((index, clean))
    if not valid:
        return results

    with transaction.atomic():
        charge_point_ids = dict(
            ChargePoint.objects.for_user(actor)
            .filter(ocpp_id__in={clean["ocpp_id"] for _, clean in valid})
            .values_list("ocpp_id", "id")
        )
        by_type: dict[str, list[tuple[int, dict]]] = defaultdict(list)
        # Event ids are the sender's, unique per charge point: the same id on
        # another charge point (another team's, perhaps) is another event.
        seen_in_batch: set[tuple[int, str]] = set()
        for index, clean in valid:
            cp_id = charge_point_ids.get(clean["ocpp_id"])
            if cp_id is None:
                results[index].status = REJECTED
                results[index].errors = {"ocpp_id": UNKNOWN_CHARGE_POINT}
                continue
            key = (cp_id, clean["event_id"])
            if key in seen_in_batch:
                results[index].status = DUPLICATE
                continue
            seen_in_batch.add(key)
            clean["charge_point_id"] = cp_id
            by_type[clean["type"]].append((index, clean))

        accepted: dict[str, list[dict]] = {}
        for kind, items in by_type.items():
            model = _MODELS[kind]
            known = set(
                model.objects.filter(
                    charge_point_id__in={clean["charge_point_id"] for _, clean in items},
                    event_id__in={clean["event_id"] for _, clean in items},
                ).values_list("charge_point_id", "event_id")
            )
            fresh = []
            for index, clean in items:
                if (clean["charge_point_id"], clean["event_id"]) in known:
                    results[index].status = DUPLICATE
                else:
                    fresh.append(clean)
            accepted[kind] = fresh

        # State changes first: a charge in this batch may have seen one.
        connectors_apply(accepted.get("state_change", []))
        _store_state_changes(accepted.get("state_change", []), now=now)
        _store_heartbeats(accepted.get("heartbeat", []) + accepted.get("boot", []), now=now)
        _apply_boots(accepted.get("boot", []))
        _store_signals(accepted.get("signal", []), now=now)
        _store_charges(accepted.get("charge", []), now=now)
        _apply_live_state(accepted)
    return results


def _store_state_changes(items: list[dict], *, now: datetime) -> None:
    if not items:
        return
    # ignore_conflicts: a concurrent batch carrying the same event id wins
    # the race harmlessly; applying the live state twice changes nothing.
    StateChange.objects.bulk_create(
        [
            StateChange(
                charge_point_id=c["charge_point_id"],
                event_id=c["event_id"],
                state=c["state"],
                ocpp_status=c["ocpp_status"],
                error_code=c["error_code"],
                vendor_error_code=c["vendor_error_code"],
                occurred_at=c["occurred_at"],
                connector=c.get("connector"),
                received_at=now,
            )
            for c in items
        ],
        ignore_conflicts=True,
    )
    # An error reported late still fails the charges it interrupted.
    errors = [(c["charge_point_id"], c["occurred_at"]) for c in items if c["state"] == ChargePointState.ERROR]
    if not errors:
        return
    failure = charge_failure_reason(energy_wh=1, stop_reason="", went_to_error=True)
    if connection.vendor == "postgresql":
        # A join on the errors rather than an OR of one condition per error.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Charge._meta.db_table} AS c SET outcome = %s, failure_reason = %s "
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS e(cp, at) "
                "WHERE c.charge_point_id = e.cp AND c.started_at <= e.at AND c.ended_at >= e.at "
                "AND c.outcome = %s",
                [ChargeOutcome.FAILED, failure, [cp for cp, _ in errors], [at for _, at in errors],
                 ChargeOutcome.COMPLETED],
            )
        return
    spans = Q()
    for cp_id, at in errors:
        spans |= Q(charge_point_id=cp_id, started_at__lte=at, ended_at__gte=at)
    Charge.objects.filter(spans, outcome=ChargeOutcome.COMPLETED).update(
        outcome=ChargeOutcome.FAILED, failure_reason=failure
    )


def _store_heartbeats(items: list[dict], *, now: datetime) -> None:
    Heartbeat.objects.bulk_create(
        [
            Heartbeat(
                charge_point_id=c["charge_point_id"],
                event_id=c["event_id"],
                occurred_at=c["occurred_at"],
                received_at=now,
            )
            for c in items
        ],
        ignore_conflicts=True,
    )


def _store_signals(items: list[dict], *, now: datetime) -> None:
    SignalReading.objects.bulk_create(
        [
            SignalReading(
                charge_point_id=c["charge_point_id"],
                event_id=c["event_id"],
                kind=c["kind"],
                dbm=c["dbm"],
                occurred_at=c["occurred_at"],
                received_at=now,
            )
            for c in items
        ],
        ignore_conflicts=True,
    )


def _store_charges(items: list[dict], *, now: datetime) -> None:
    if not items:
        return
    # Errors of these charge points over the batch's whole time span (one
    # range on the partial error index); which charge each fell in is
    # decided below.
    errors_by_cp: dict[int, list[datetime]] = defaultdict(list)
    for cp_id, at in StateChange.objects.filter(
        charge_point_id__in={c["charge_point_id"] for c in items},
        state=ChargePointState.ERROR,
        occurred_at__gte=min(c["started_at"] for c in items),
        occurred_at__lte=max(c["ended_at"] for c in items),
    ).values_list("charge_point_id", "occurred_at"):
        errors_by_cp[cp_id].append(at)
    rows = []
    for c in items:
        went_to_error = any(c["started_at"] <= at <= c["ended_at"] for at in errors_by_cp[c["charge_point_id"]])
        failure = charge_failure_reason(
            energy_wh=c["energy_wh"], stop_reason=c["stop_reason"], went_to_error=went_to_error
        )
        rows.append(
            Charge(
                charge_point_id=c["charge_point_id"],
                event_id=c["event_id"],
                started_at=c["started_at"],
                ended_at=c["ended_at"],
                energy_wh=c["energy_wh"],
                stop_reason=c["stop_reason"],
                transaction_id=c["transaction_id"],
                outcome=ChargeOutcome.FAILED if failure else ChargeOutcome.COMPLETED,
                failure_reason=failure,
                received_at=now,
            )
        )
    Charge.objects.bulk_create(rows, ignore_conflicts=True)


_LIVE_FIELDS = [
    "state",
    "state_since",
    "state_reported_at",
    "error_code",
    "vendor_error_code",
    "last_heartbeat_at",
    "wifi_signal_dbm",
    "wifi_signal_at",
    "cellular_signal_dbm",
    "cellular_signal_at",
]


def _apply_live_state(accepted: dict[str, list[dict]]) -> None:
    """Move each touched charge point's live state forward to its newest
    events. The rows are locked (in id order, so two batches cannot
    deadlock) and compared in Python: a late event loses to what is there."""
    by_cp: dict[int, list[dict]] = defaultdict(list)
    for kind in ("state_change", "heartbeat", "signal", "boot"):
        for c in accepted.get(kind, []):
            by_cp[c["charge_point_id"]].append(c)
    if not by_cp:
        return
    charge_points = list(
        ChargePoint.objects.select_for_update().filter(pk__in=by_cp).order_by("pk").only("pk", *_LIVE_FIELDS)
    )
    changed = []
    for cp in charge_points:
        before = tuple(getattr(cp, name) for name in _LIVE_FIELDS)
        for c in sorted(by_cp[cp.pk], key=lambda c: c["occurred_at"]):
            _apply_one(cp, c)
        if tuple(getattr(cp, name) for name in _LIVE_FIELDS) != before:
            changed.append(cp)
    if changed:
        _update_live_fields(changed)


# PostgreSQL array types of the live fields, for the one-statement update.
_LIVE_TYPES = {
    "state": "text",
    "state_since": "timestamptz",
    "state_reported_at": "timestamptz",
    "error_code": "text",
    "vendor_error_code": "text",
    "last_heartbeat_at": "timestamptz",
    "wifi_signal_dbm": "smallint",
    "wifi_signal_at": "timestamptz",
    "cellular_signal_dbm": "smallint",
    "cellular_signal_at": "timestamptz",
}


def _update_live_fields(charge_points: list[ChargePoint]) -> None:
    """Write the live fields of these (locked) charge points. On PostgreSQL
    one UPDATE ... FROM unnest(arrays): Django's bulk_update builds a CASE
    expression per row and field, which cost more than everything else in a
    batch (docs/benchmarks.md, telemetry ingest)."""
    if connection.vendor != "postgresql":
        ChargePoint.objects.bulk_update(charge_points, _LIVE_FIELDS, batch_size=500)
        return
    assert set(_LIVE_TYPES) == set(_LIVE_FIELDS)
    columns = [ChargePoint._meta.get_field(name).column for name in _LIVE_FIELDS]
    arrays = [[cp.pk for cp in charge_points]]
    arrays += [[getattr(cp, name) for cp in charge_points] for name in _LIVE_FIELDS]
    casts = ", ".join(["%s::bigint[]", *(f"%s::{_LIVE_TYPES[name]}[]" for name in _LIVE_FIELDS)])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ChargePoint._meta.db_table} AS cp SET "
            + ", ".join(f"{column} = v.{column}" for column in columns)
            + f" FROM unnest({casts}) AS v(id, {', '.join(columns)}) WHERE cp.id = v.id",
            arrays,
        )


def _is_late(cp: ChargePoint, at: datetime) -> bool:
    """Not newer than the latest state event applied. Before the first one,
    the state is only what the charge point was registered with (state_since
    is then its registration time), and a charger's status from a little
    before that is still the best news there is."""
    return cp.state_reported_at is not None and at <= cp.state_reported_at


def _apply_one(cp: ChargePoint, c: dict) -> None:
    at = c["occurred_at"]
    kind = c["type"]
    if kind == "state_change" and c.get("connector") is not None:
        _apply_connector_state(cp, c)
    elif kind == "state_change":
        if _is_late(cp, at):
            return  # history only
        if c["state"] != cp.state:
            cp.state = c["state"]
            cp.state_since = at
        cp.state_reported_at = at
        cp.error_code = c["error_code"]
        cp.vendor_error_code = c["vendor_error_code"]
    elif kind in ("heartbeat", "boot"):
        if cp.last_heartbeat_at is None or at > cp.last_heartbeat_at:
            cp.last_heartbeat_at = at
        # A heartbeat after the connection was lost means it is back; what
        # state it is in, it will say in its next status.
        if cp.state == ChargePointState.DISCONNECTED and not _is_late(cp, at):
            cp.state = ChargePointState.UNKNOWN
            cp.state_since = at
            cp.state_reported_at = at
            cp.error_code = cp.vendor_error_code = ""
    elif kind == "signal":
        prefix = "wifi" if c["kind"] == SignalKind.WIFI else "cellular"
        latest = getattr(cp, f"{prefix}_signal_at")
        if latest is None or at > latest:
            setattr(cp, f"{prefix}_signal_dbm", c["dbm"])
            setattr(cp, f"{prefix}_signal_at", at)


def _apply_connector_state(cp: ChargePoint, c: dict) -> None:
    """A connector's status that was news for its connector (``cp_state`` set
    by ``connectors_apply``) sets the charge point's state to what its
    connectors add up to, even when another connector reported later: the
    connectors, not the times, decide."""
    if c.get("cp_state") is None:
        return  # late for its connector: history only
    at = c["occurred_at"]
    if c["cp_state"] != cp.state:
        cp.state = c["cp_state"]
        cp.state_since = at
    if cp.state_reported_at is None or at > cp.state_reported_at:
        cp.state_reported_at = at
    cp.error_code = c["cp_error_code"]
    cp.vendor_error_code = c["cp_vendor_error_code"]


def _apply_boots(items: list[dict]) -> None:
    """The identity a charger gives when it boots (the latest boot per charge
    point wins); a write only for charge points whose identity changed."""
    latest: dict[int, dict] = {}
    for c in sorted(items, key=lambda c: c["occurred_at"]):
        latest[c["charge_point_id"]] = c
    if not latest:
        return
    changed = []
    for cp in ChargePoint.objects.filter(pk__in=latest).only("pk", *BOOT_FIELDS):
        before = [getattr(cp, name) for name in BOOT_FIELDS]
        for name in BOOT_FIELDS:
            if latest[cp.pk][name]:
                setattr(cp, name, latest[cp.pk][name])
        if [getattr(cp, name) for name in BOOT_FIELDS] != before:
            changed.append(cp)
    if changed:
        ChargePoint.objects.bulk_update(changed, list(BOOT_FIELDS), batch_size=500)
