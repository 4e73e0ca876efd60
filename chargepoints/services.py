"""Writes on charge points: recording telemetry.

``telemetry_record_batch`` is the one way telemetry gets in (the API's ingest
endpoint, the fleet simulator and the tests call it). It stores the history
rows and moves each charge point's live state forward in one transaction,
with a handful of queries per batch whatever its size.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .connectors import connectors_apply
from .hooks import telemetry_stored
from .live_state import boots_apply, live_state_apply, live_state_lock
from .models import (
    Charge,
    ChargeOutcome,
    ChargePoint,
    ChargePointState,
    Heartbeat,
    SignalReading,
    StateChange,
)
from .telemetry_validation import (
    FAULT_STOP_REASONS,
    InvalidEvent,
    telemetry_validate,
)

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
REJECTED = "rejected"


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


# --- Recording --------------------------------------------------------------------

# A boot is the charger saying hello: history-wise a heartbeat.
_MODELS = {"state_change": StateChange, "heartbeat": Heartbeat, "signal": SignalReading, "charge": Charge,
           "boot": Heartbeat}
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
            clean = telemetry_validate(event, now=now)
        except InvalidEvent as invalid:
            results.append(TelemetryResult(event_id=event_id, status=REJECTED, errors=invalid.errors))
            continue
        results.append(TelemetryResult(event_id=clean["event_id"], status=ACCEPTED))
        valid.append((index, clean))
    if not valid:
        return results

    # No savepoint when called inside a transaction (a gateway batch): two
    # round trips less, and an error fails the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            _record_postgresql(valid, results, actor=actor, now=now)
        else:
            _record_orm(valid, results, actor=actor, now=now)
    return results


def _record_orm(valid: list[tuple[int, dict]], results: list[TelemetryResult], *, actor, now: datetime) -> None:
    """Any database: look the charge points up, leave out the events
    recorded before, then store and apply the rest."""
    charge_point_ids = dict(
        ChargePoint.objects.for_user(actor)
        .filter(ocpp_id__in={clean["ocpp_id"] for _, clean in valid})
        .values_list("ocpp_id", "id")
    )
    by_type = _by_type(valid, results, charge_point_ids)
    accepted: dict[str, list[dict]] = {}
    for kind, items in by_type.items():
        accepted[kind] = _not_known(kind, items, results)

    # State changes first: a charge in this batch may have seen one.
    connectors_apply(accepted.get("state_change", []))
    _store_state_changes(accepted.get("state_change", []), now=now)
    _store_heartbeats(accepted.get("heartbeat", []) + accepted.get("boot", []), now=now)
    boots_apply(accepted.get("boot", []))
    _store_signals(accepted.get("signal", []), now=now)
    _store_charges(accepted.get("charge", []), now=now)
    live_state_apply(accepted)
    telemetry_stored(accepted=accepted)


def _record_postgresql(valid: list[tuple[int, dict]], results: list[TelemetryResult], *, actor,
                       now: datetime) -> None:
    """The same on PostgreSQL in a handful of statements whatever the batch
    size, each taking its rows as one JSON document (psycopg quotes a list
    parameter element by element in Python, and the ORM compiles an IN list
    of thousands of values: together most of a gateway batch's time):

    1. the charge points, locked in id order, with their live state;
    2. the history rows, ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: an
       event whose row was not inserted was recorded before (a duplicate);
    3. the connectors (read, then one upsert) and the live state (one
       update), as on other databases."""
    live = live_state_lock(ocpp_ids={clean["ocpp_id"] for _, clean in valid}, actor=actor)
    by_type = _by_type(valid, results, {ocpp_id: row.pk for ocpp_id, row in live.items()})
    accepted: dict[str, list[dict]] = {}
    history = [("state_change", _insert_state_changes), ("heartbeat", _insert_heartbeats),
               ("signal", _insert_signals)]
    for kind, insert in history:
        items = by_type.get(kind, [])
        if kind == "heartbeat":
            items = items + by_type.get("boot", [])
        if not items:
            continue
        inserted = insert([clean for _, clean in items], now=now)
        for index, clean in items:
            if (clean["charge_point_id"], clean["event_id"]) in inserted:
                accepted.setdefault(clean["type"], []).append(clean)
            else:
                results[index].status = DUPLICATE
    if "charge" in by_type:
        accepted["charge"] = _not_known("charge", by_type["charge"], results)

    connectors_apply(accepted.get("state_change", []), locked=True,
                     loaded={row.pk: row.connectors for row in live.values()})
    _fail_interrupted_charges(accepted.get("state_change", []))
    boots_apply(accepted.get("boot", []))
    _store_charges(accepted.get("charge", []), now=now)
    live_state_apply(accepted, locked=live)
    telemetry_stored(accepted=accepted)


def _by_type(valid: list[tuple[int, dict]], results: list[TelemetryResult],
             charge_point_ids: dict[str, int]) -> dict[str, list[tuple[int, dict]]]:
    """The events of known charge points by type, each event id once; the
    others' results say why not."""
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
    return by_type


def _not_known(kind: str, items: list[tuple[int, dict]], results: list[TelemetryResult]) -> list[dict]:
    """The events of ``items`` not recorded before; the others are answered
    duplicate."""
    known = set(
        _MODELS[kind].objects.filter(
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
    return fresh


def _insert_returning(model, columns: str, select: str, record: str, rows: list[dict],
                      now: datetime) -> set[tuple[int, str]]:
    """INSERT the rows (one JSON document) unless their (charge point, event
    id) is there already; the keys of those inserted."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} (charge_point_id, event_id, received_at, {columns}) "
            f"SELECT r.cp, r.id, %s, {select} FROM jsonb_to_recordset(%s::jsonb) AS r(cp bigint, id text, {record}) "
            "ON CONFLICT DO NOTHING RETURNING charge_point_id, event_id",
            [now, json.dumps(rows)],
        )
        return set(cursor.fetchall())


def _insert_state_changes(items: list[dict], *, now: datetime) -> set[tuple[int, str]]:
    return _insert_returning(
        StateChange, "state, ocpp_status, error_code, vendor_error_code, occurred_at, connector",
        "r.state, r.status, r.error, r.vendor_error, r.at, r.connector",
        "state text, status text, error text, vendor_error text, at timestamptz, connector smallint",
        [{"cp": c["charge_point_id"], "id": c["event_id"], "state": c["state"], "status": c["ocpp_status"],
          "error": c["error_code"], "vendor_error": c["vendor_error_code"], "at": c["occurred_at"].isoformat(),
          "connector": c.get("connector")} for c in items],
        now,
    )


def _insert_heartbeats(items: list[dict], *, now: datetime) -> set[tuple[int, str]]:
    return _insert_returning(
        Heartbeat, "occurred_at", "r.at", "at timestamptz",
        [{"cp": c["charge_point_id"], "id": c["event_id"], "at": c["occurred_at"].isoformat()} for c in items],
        now,
    )


def _insert_signals(items: list[dict], *, now: datetime) -> set[tuple[int, str]]:
    return _insert_returning(
        SignalReading, "kind, dbm, occurred_at", "r.kind, r.dbm, r.at", "kind text, dbm smallint, at timestamptz",
        [{"cp": c["charge_point_id"], "id": c["event_id"], "kind": c["kind"], "dbm": c["dbm"],
          "at": c["occurred_at"].isoformat()} for c in items],
        now,
    )


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
    _fail_interrupted_charges(items)


def _fail_interrupted_charges(items: list[dict]) -> None:
    """An error reported late still fails the charges it interrupted."""
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


