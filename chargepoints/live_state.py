"""Moving charge points' live state forward from the telemetry a batch
stored: state and since, heartbeat, signal, the connectors and boot
identity. Late events never move the live state backwards."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime

from django.db import connection

from accounts.permissions import visible_team_ids

from .connectors import CONNECTORS_JSON, connectors_from_json
from .models import (
    ChargePoint,
    ChargePointState,
    SignalKind,
)
from .telemetry_validation import BOOT_FIELDS

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


class LiveRow:
    """A charge point's id and live fields, as read (and locked) by
    ``live_state_lock``: what ``live_state_apply`` compares and writes."""

    __slots__ = ("pk", "connectors", *_LIVE_FIELDS)

    def __init__(self, pk: int, connectors, *values) -> None:
        self.pk = pk
        self.connectors = connectors_from_json(pk, connectors)
        for name, value in zip(_LIVE_FIELDS, values, strict=True):
            setattr(self, name, value)


def live_state_lock(*, ocpp_ids: set[str], actor=None) -> dict[str, LiveRow]:
    """PostgreSQL: the charge points with these OCPP ids that the actor may
    send for, locked in id order (as ``connectors_apply`` and
    ``live_state_apply`` lock them: two batches for one charger wait for each
    other), with their live fields and connectors; one statement, the ids
    as one JSON document."""
    columns = [ChargePoint._meta.get_field(name).column for name in _LIVE_FIELDS]
    visible, params = "", []
    if visible_team_ids(actor) is not None:
        subquery, params = ChargePoint.objects.for_user(actor).values("pk").query.sql_with_params()
        visible = f" AND cp.id IN ({subquery})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT cp.ocpp_id, cp.id, ({CONNECTORS_JSON} WHERE c.charge_point_id = cp.id), "
            f"{', '.join('cp.' + c for c in columns)} "
            f"FROM {ChargePoint._meta.db_table} AS cp "
            "WHERE cp.ocpp_id = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb)))"
            f"{visible} ORDER BY cp.id FOR UPDATE OF cp",
            [json.dumps(sorted(ocpp_ids)), *params],
        )
        return {row[0]: LiveRow(*row[1:]) for row in cursor.fetchall()}


def live_state_apply(accepted: dict[str, list[dict]], *, locked: dict[str, LiveRow] | None = None) -> None:
    """Move each touched charge point's live state forward to its newest
    events. The rows are locked (in id order, so two batches cannot
    deadlock; ``locked``: already locked and read by ``live_state_lock``)
    and compared in Python: a late event loses to what is there."""
    by_cp: dict[int, list[dict]] = defaultdict(list)
    for kind in ("state_change", "heartbeat", "signal", "boot"):
        for c in accepted.get(kind, []):
            by_cp[c["charge_point_id"]].append(c)
    if not by_cp:
        return
    if locked is not None:
        charge_points = sorted((row for row in locked.values() if row.pk in by_cp), key=lambda row: row.pk)
    else:
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


# PostgreSQL types of the live fields, for the one-statement update.
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


def _json_value(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _update_live_fields(charge_points: list) -> None:
    """Write the live fields of these (locked) charge points. On PostgreSQL
    one UPDATE ... FROM jsonb_to_recordset: Django's bulk_update builds a
    CASE expression per row and field, which cost more than everything else
    in a batch (docs/benchmarks.md, telemetry ingest), and array parameters
    are quoted element by element in Python."""
    if connection.vendor != "postgresql":
        ChargePoint.objects.bulk_update(charge_points, _LIVE_FIELDS, batch_size=500)
        return
    assert set(_LIVE_TYPES) == set(_LIVE_FIELDS)
    columns = [ChargePoint._meta.get_field(name).column for name in _LIVE_FIELDS]
    rows = [[cp.pk, *(_json_value(getattr(cp, name)) for name in _LIVE_FIELDS)] for cp in charge_points]
    record = ", ".join(["id bigint", *(f"{column} {_LIVE_TYPES[name]}" for name, column in zip(
        _LIVE_FIELDS, columns, strict=True))])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ChargePoint._meta.db_table} AS cp SET "
            + ", ".join(f"{column} = v.{column}" for column in columns)
            + f" FROM jsonb_to_recordset(%s::jsonb) AS v({record}) WHERE cp.id = v.id",
            [json.dumps([dict(zip(["id", *columns], row, strict=True)) for row in rows])],
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
            c["reconnected"] = True  # the end of a disconnection (chargepoints.hooks)
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


def boots_apply(items: list[dict]) -> None:
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

