"""Connectors and the charge point state they add up to.

A charger reports each connector's status (OCPP StatusNotification, with a
connector id; 0 is the charger as a whole). The charge point's own state,
the one the health checks read, follows from its connectors by one rule:

1. ``error`` when connector 0 or any connector is in error (Faulted);
2. else ``passive`` when connector 0 is Unavailable, or every connector
   that has reported is;
3. else ``busy`` when any connector is busy (Preparing, Charging, Suspended,
   Finishing, Reserved);
4. else ``available`` when any connector is available;
5. else ``unknown``.

Its error codes are those of the connector that decided an error (connector
0 first, then the lowest number). ``telemetry_record_batch`` calls
``connectors_apply`` inside its transaction; nothing else writes connectors.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection

from .models import ChargePoint, ChargePointState, Connector

S = ChargePointState


def connectors_state(connectors: dict[int, tuple[str, str, str]]) -> tuple[str, str, str]:
    """(state, error code, vendor error code) of a charge point whose
    connectors are ``{number: (state, error code, vendor error code)}``."""
    numbers = sorted(connectors)
    for number in numbers:
        state, error_code, vendor_error_code = connectors[number]
        if state == S.ERROR:
            return S.ERROR, error_code, vendor_error_code
    states = {number: connectors[number][0] for number in numbers}
    outlets = [state for number, state in states.items() if number != 0]
    if states.get(0) == S.PASSIVE or (outlets and all(state == S.PASSIVE for state in outlets)):
        return S.PASSIVE, "", ""
    if S.BUSY in states.values():
        return S.BUSY, "", ""
    if S.AVAILABLE in states.values():
        return S.AVAILABLE, "", ""
    return S.UNKNOWN, "", ""


def connectors_apply(items: list[dict]) -> None:
    """Move the connectors of these clean ``state_change`` events (those with
    a ``connector``) forward and note on each event the charge point state
    that followed it (``cp_state``...), or nothing when the event is older
    than its connector's latest status (history only).

    The charge points are locked first, in id order, as the live-state update
    that follows locks them: two batches for one charger wait for each other."""
    items = [c for c in items if c.get("connector") is not None]
    if not items:
        return
    cp_ids = sorted({c["charge_point_id"] for c in items})
    list(ChargePoint.objects.select_for_update().filter(pk__in=cp_ids).order_by("pk").values_list("pk"))
    rows: dict[int, dict[int, Connector]] = defaultdict(dict)
    for row in Connector.objects.filter(charge_point_id__in=cp_ids):
        rows[row.charge_point_id][row.number] = row
    by_cp: dict[int, list[dict]] = defaultdict(list)
    for c in items:
        by_cp[c["charge_point_id"]].append(c)
    created: dict[tuple[int, int], Connector] = {}
    changed: dict[tuple[int, int], Connector] = {}
    for cp_id, events in by_cp.items():
        for c in sorted(events, key=lambda c: c["occurred_at"]):
            key = (cp_id, c["connector"])
            row = rows[cp_id].get(c["connector"])
            at = c["occurred_at"]
            if row is not None and at <= row.reported_at:
                continue  # late: history only
            if row is None:
                row = Connector(charge_point_id=cp_id, number=c["connector"], state=c["state"], state_since=at,
                                reported_at=at)
                rows[cp_id][c["connector"]] = created[key] = row
            elif row.state != c["state"]:
                row.state_since = at
            row.state = c["state"]
            row.ocpp_status = c["ocpp_status"]
            row.reported_at = at
            row.error_code = c["error_code"]
            row.vendor_error_code = c["vendor_error_code"]
            if key not in created:
                changed[key] = row
            mine = {number: (r.state, r.error_code, r.vendor_error_code) for number, r in rows[cp_id].items()}
            c["cp_state"], c["cp_error_code"], c["cp_vendor_error_code"] = connectors_state(mine)
    _save([*created.values(), *changed.values()], created=list(created.values()))


_FIELDS = ["state", "ocpp_status", "state_since", "reported_at", "error_code", "vendor_error_code"]
_TYPES = ["text", "text", "timestamptz", "timestamptz", "text", "text"]


def _save(rows: list[Connector], *, created: list[Connector]) -> None:
    """On PostgreSQL one INSERT ... ON CONFLICT DO UPDATE from arrays: Django's
    bulk_update builds a CASE per row and field, which cost most of a batch
    of 200 statuses (docs/benchmarks.md, OCPP gateway)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        Connector.objects.bulk_create(created)
        Connector.objects.bulk_update([r for r in rows if r.pk], _FIELDS, batch_size=500)
        return
    columns = ["charge_point_id", "number", *_FIELDS]
    casts = ", ".join(["%s::bigint[]", "%s::smallint[]", *(f"%s::{t}[]" for t in _TYPES)])
    arrays = [[getattr(r, name) for r in rows] for name in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Connector._meta.db_table} ({', '.join(columns)}) SELECT * FROM unnest({casts}) "
            "ON CONFLICT (charge_point_id, number) DO UPDATE SET "
            + ", ".join(f"{name} = EXCLUDED.{name}" for name in _FIELDS),
            arrays,
        )
