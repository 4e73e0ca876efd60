"""Recording a batch of telemetry (``telemetry_record_batch``): each event
validated, matched to a charge point the sender may send for, answered
duplicate when its id was recorded before, and the rest stored and applied
to the live state in one transaction, with a handful of queries per batch
whatever its size (PostgreSQL) or a few per event type (other databases).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from ..connectors import connectors_apply
from ..health_marks import health_marks_add
from ..hooks import telemetry_stored
from ..live_state import boots_apply, live_state_apply, live_state_lock
from ..models import Charge, ChargeOutcome, ChargePoint, Heartbeat, SignalReading, StateChange
from ..telemetry_validation import InvalidEvent, telemetry_validate
from .charges import _fail_interrupted_charges, _insert_charges, _store_charges
from .history import (
    _insert_heartbeats,
    _insert_signals,
    _insert_state_changes,
    _store_heartbeats,
    _store_signals,
    _store_state_changes,
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
      nothing; the same id on another charge point is another event. On
      PostgreSQL, where state changes, heartbeats and signal readings are
      partitioned by time, their ids are unique per charge point and
      ``occurred_at``: a resend carries the same time and is a duplicate.
      Events are kept for their retention (``services/retention.py``).
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
    _mark_for_health(accepted, now=now)
    telemetry_stored(accepted=accepted)


def _record_postgresql(valid: list[tuple[int, dict]], results: list[TelemetryResult], *, actor,
                       now: datetime) -> None:
    """The same on PostgreSQL in a handful of statements whatever the batch
    size, each taking its rows as one JSON document (psycopg quotes a list
    parameter element by element in Python, and the ORM compiles an IN list
    of thousands of values: together most of a gateway batch's time):

    1. the charge points, locked in id order, with their live state;
    2. the history rows and the charges (``chargepoints/services/rows.py``),
       ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING``, no model
       instances: an event whose row was not inserted was recorded before
       (a duplicate);
    3. the connectors (read, then one upsert) and the live state (one
       update), as on other databases."""
    live = live_state_lock(ocpp_ids={clean["ocpp_id"] for _, clean in valid}, actor=actor)
    by_type = _by_type(valid, results, {ocpp_id: row.pk for ocpp_id, row in live.items()})
    accepted: dict[str, list[dict]] = {}
    # State changes first: a charge in this batch may have seen one.
    history = [("state_change", _insert_state_changes), ("heartbeat", _insert_heartbeats),
               ("signal", _insert_signals), ("charge", _insert_charges)]
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

    connectors_apply(accepted.get("state_change", []), locked=True,
                     loaded={row.pk: row.connectors for row in live.values()})
    _fail_interrupted_charges(accepted.get("state_change", []))
    boots_apply(accepted.get("boot", []))
    live_state_apply(accepted, locked=live)
    _mark_for_health(accepted, now=now)
    telemetry_stored(accepted=accepted)


def _mark_for_health(accepted: dict[str, list[dict]], *, now: datetime) -> None:
    """Mark for the health engine the charge points whose state or charges
    this batch changed (a heartbeat only when it ended a disconnection, a
    charge only when it failed), and apart, those whose only news is a
    signal reading: two statements per batch at most."""
    changed = {c["charge_point_id"] for c in accepted.get("state_change", [])}
    changed.update(c["charge_point_id"] for c in accepted.get("charge", []) if c.get("outcome") != ChargeOutcome.COMPLETED)
    changed.update(c["charge_point_id"] for c in accepted.get("heartbeat", []) if c.get("reconnected"))
    health_marks_add(changed, now=now)
    health_marks_add({c["charge_point_id"] for c in accepted.get("signal", [])} - changed, now=now, signal_only=True)


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
