"""Storing telemetry history rows (state changes, heartbeats, signal
readings), each once per charge point and event id: on PostgreSQL one
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per type that says which
rows are new, elsewhere a bulk insert of the rows already found new.
"""

from __future__ import annotations

from datetime import datetime

from ..models import Heartbeat, SignalReading, StateChange
from .charges import _fail_interrupted_charges
from .rows import _insert_returning


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
