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

import json
from collections import defaultdict
from datetime import datetime

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


def connectors_apply(items: list[dict], *, locked: bool = False, loaded: dict[int, list] | None = None) -> None:
    """Move the connectors of these clean ``state_change`` events (those with
    a ``connector``) forward and note on each event the charge point state
    that followed it (``cp_state``...), or nothing when the event is older
    than its connector's latest status (history only).

    The charge points are locked first, in id order, as the live-state update
    that follows locks them: two batches for one charger wait for each other
    (``locked``: the caller has locked them already; ``loaded``: and read
    their connectors, ``{charge point id: [ConnectorRow]}``)."""
    items = [c for c in items if c.get("connector") is not None]
    if not items:
        return
    cp_ids = sorted({c["charge_point_id"] for c in items})
    if not locked:
        list(ChargePoint.objects.select_for_update().filter(pk__in=cp_ids).order_by("pk").values_list("pk"))
    postgresql = connection.vendor == "postgresql"
    rows: dict[int, dict] = defaultdict(dict)
    if loaded is not None:
        found = [row for cp_id in cp_ids for row in loaded.get(cp_id, ())]
    else:
        found = _load(cp_ids) if postgresql else Connector.objects.filter(charge_point_id__in=cp_ids)
    for row in found:
        rows[row.charge_point_id][row.number] = row
    new_row = ConnectorRow if postgresql else Connector
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
                row = new_row(charge_point_id=cp_id, number=c["connector"], state=c["state"], state_since=at,
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


class ConnectorRow:
    """A connector as PostgreSQL's path reads and writes it (no model
    instance per row)."""

    __slots__ = ("charge_point_id", "number", *_FIELDS)

    def __init__(self, *, charge_point_id: int, number: int, state: str, state_since, reported_at,
                 ocpp_status: str = "", error_code: str = "", vendor_error_code: str = "") -> None:
        self.charge_point_id, self.number, self.state = charge_point_id, number, state
        self.state_since, self.reported_at, self.ocpp_status = state_since, reported_at, ocpp_status
        self.error_code, self.vendor_error_code = error_code, vendor_error_code


def _load(cp_ids: list[int]) -> list[ConnectorRow]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT charge_point_id, number, {', '.join(_FIELDS)} FROM {Connector._meta.db_table} "
            "WHERE charge_point_id = ANY(%s::bigint[])",
            ["{" + ",".join(map(str, cp_ids)) + "}"],
        )
        names = ["charge_point_id", "number", *_FIELDS]
        return [ConnectorRow(**dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


# A charge point's connectors as one JSON array (append the WHERE): read
# with the charge point's row by live_state.live_state_lock.
CONNECTORS_JSON = (
    f"SELECT json_agg(json_build_array(c.number, {', '.join('c.' + name for name in _FIELDS)})) "
    f"FROM {Connector._meta.db_table} AS c"
)


def connectors_from_json(cp_id: int, rows: list | None) -> list[ConnectorRow]:
    if isinstance(rows, str):
        rows = json.loads(rows)
    connectors = []
    for number, state, ocpp_status, state_since, reported_at, error_code, vendor_error_code in rows or ():
        connectors.append(ConnectorRow(
            charge_point_id=cp_id, number=number, state=state, ocpp_status=ocpp_status,
            state_since=datetime.fromisoformat(state_since), reported_at=datetime.fromisoformat(reported_at),
            error_code=error_code, vendor_error_code=vendor_error_code))
    return connectors


def _save(rows: list, *, created: list) -> None:
    """On PostgreSQL one INSERT ... ON CONFLICT DO UPDATE from one JSON
    document: Django's bulk_update builds a CASE per row and field, which
    cost most of a batch of 200 statuses (docs/benchmarks.md, OCPP gateway),
    and array parameters are quoted element by element in Python."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        Connector.objects.bulk_create(created)
        Connector.objects.bulk_update([r for r in rows if r.pk], _FIELDS, batch_size=500)
        return
    columns = ["charge_point_id", "number", *_FIELDS]
    record = ", ".join(f"{name} {kind}" for name, kind in zip(columns, ["bigint", "smallint", *_TYPES], strict=True))
    document = [{name: _json_value(getattr(r, name)) for name in columns} for r in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Connector._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join('r.' + name for name in columns)} FROM jsonb_to_recordset(%s::jsonb) AS r({record}) "
            "ON CONFLICT (charge_point_id, number) DO UPDATE SET "
            + ", ".join(f"{name} = EXCLUDED.{name}" for name in _FIELDS),
            [json.dumps(document)],
        )


def _json_value(value):
    return value.isoformat() if isinstance(value, datetime) else value
