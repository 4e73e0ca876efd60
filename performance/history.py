"""Reading a charge point's state history for the outage ledger: per
stream (each connector, and the states reported without one) the state in
force at the window's start and the changes within it, for several charge
points in a few statements; a disconnection ends where the charger was
next heard from (a heartbeat or any status): the first heartbeat after each
disconnection is read for all of them at once, not a query each."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from chargepoints.models import ChargePointState, Connector, Heartbeat, StateChange

S = ChargePointState
WHOLE = "cp"  # the stream of states reported without a connector


@dataclass
class Event:
    at: datetime
    state: str
    error_code: str


def stream_key(connector: int | None):
    return WHOLE if connector is None else connector


@dataclass
class LoadedHistory:
    """The history of several charge points for one window, read in a few
    statements: connector numbers, the window's state changes, and each
    stream's state at the window's start."""

    numbers: dict[int, set[int]]
    rows: dict[int, list[tuple]]  # charge point -> (connector, at, state, error code), in order
    prior: dict[tuple[int, object], tuple]  # (charge point, stream) -> (at, state, error code)
    # (charge point, after, before) -> the first heartbeat strictly between, or None
    beats: dict[tuple[int, datetime, datetime], datetime | None]


def history_load(starts: dict[int, datetime], end: datetime) -> LoadedHistory:
    ids = sorted(starts)
    numbers: dict[int, set[int]] = defaultdict(set)
    for cp_id, number in Connector.objects.filter(charge_point_id__in=ids).values_list("charge_point_id", "number"):
        numbers[cp_id].add(number)
    rows: dict[int, list[tuple]] = defaultdict(list)
    for cp_id, connector, at, state, error_code in (
        StateChange.objects.filter(charge_point_id__in=ids, occurred_at__gte=min(starts.values()), occurred_at__lt=end)
        .order_by("charge_point_id", "occurred_at", "id")
        .values_list("charge_point_id", "connector", "occurred_at", "state", "error_code")
    ):
        if at >= starts[cp_id]:
            rows[cp_id].append((connector, at, state, error_code))
            if connector is not None:
                numbers[cp_id].add(connector)
    keys = [(cp_id, key) for cp_id in ids for key in [WHOLE, *sorted(numbers[cp_id])]]
    prior = _prior(keys, starts)
    probes = [probe for cp_id in ids for probe in _heartbeat_probes(cp_id, starts[cp_id], end, rows[cp_id], prior)]
    return LoadedHistory(numbers, rows, prior, _first_heartbeats(probes))


def _heartbeat_probes(cp_id: int, start: datetime, end: datetime, rows: list[tuple],
                      prior: dict) -> list[tuple[int, datetime, datetime]]:
    """The windows in which a heartbeat would end a disconnection of this
    charge point: after a disconnection in force at ``start`` (was it heard
    from before the window?) and after each one within the window, up to the
    next connector-less state."""
    whole = [(at, state) for connector, at, state, _code in rows if connector is None]
    found = prior.get((cp_id, WHOLE))
    probes = []
    if found is not None:
        whole.insert(0, (start, found[1]))
        if found[1] == S.DISCONNECTED:
            probes.append((cp_id, found[0], start))
    for index, (at, state) in enumerate(whole):
        if state == S.DISCONNECTED:
            probes.append((cp_id, at, whole[index + 1][0] if index + 1 < len(whole) else end))
    return probes


def _first_heartbeats(probes: list[tuple[int, datetime, datetime]]) -> dict[tuple[int, datetime, datetime],
                                                                             datetime | None]:
    """The first heartbeat strictly inside each (charge point, after, before)
    window: on PostgreSQL one statement for all (a LATERAL probe of the
    heartbeat index per window), elsewhere a query per window."""
    probes = list(dict.fromkeys(probes))
    found: dict[tuple[int, datetime, datetime], datetime | None] = dict.fromkeys(probes)
    if not probes:
        return found
    if connection.vendor == "postgresql":
        document = [{"i": i, "cp": cp_id, "a": after.isoformat(), "b": before.isoformat()}
                    for i, (cp_id, after, before) in enumerate(probes)]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT k.i, h.occurred_at FROM jsonb_to_recordset(%s::jsonb) AS k(i integer, cp bigint, "
                "a timestamptz, b timestamptz) CROSS JOIN LATERAL (SELECT occurred_at "
                f"FROM {Heartbeat._meta.db_table} h WHERE h.charge_point_id = k.cp AND h.occurred_at > k.a "
                "AND h.occurred_at < k.b ORDER BY h.occurred_at LIMIT 1) h",
                [json.dumps(document)],
            )
            for i, at in cursor.fetchall():
                found[probes[i]] = at
        return found
    for probe in probes:
        cp_id, after, before = probe
        found[probe] = (Heartbeat.objects.filter(charge_point_id=cp_id, occurred_at__gt=after, occurred_at__lt=before)
                        .order_by("occurred_at").values_list("occurred_at", flat=True).first())
    return found


def _prior(keys: list[tuple[int, object]], starts: dict[int, datetime]) -> dict[tuple[int, object], tuple]:
    """Each (charge point, stream)'s latest state before its start: on
    PostgreSQL one statement (a LATERAL probe of the charge point's history
    index per stream), elsewhere a query per stream."""
    found: dict[tuple[int, object], tuple] = {}
    if not keys:
        return found
    if connection.vendor == "postgresql":
        document = [{"cp": cp_id, "conn": None if key == WHOLE else key, "start": starts[cp_id].isoformat()}
                    for cp_id, key in keys]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT k.cp, k.conn, s.occurred_at, s.state, s.error_code "
                "FROM jsonb_to_recordset(%s::jsonb) AS k(cp bigint, conn integer, start timestamptz) "
                "CROSS JOIN LATERAL (SELECT occurred_at, state, error_code "
                f"FROM {StateChange._meta.db_table} s WHERE s.charge_point_id = k.cp AND s.occurred_at < k.start "
                "AND s.connector IS NOT DISTINCT FROM k.conn ORDER BY s.occurred_at DESC, s.id DESC LIMIT 1) s",
                [json.dumps(document)],
            )
            for cp_id, connector, at, state, error_code in cursor.fetchall():
                found[(cp_id, WHOLE if connector is None else connector)] = (at, state, error_code)
        return found
    for cp_id, key in keys:
        prior = StateChange.objects.filter(charge_point_id=cp_id, occurred_at__lt=starts[cp_id])
        prior = prior.filter(connector__isnull=True) if key == WHOLE else prior.filter(connector=key)
        row = prior.order_by("-occurred_at", "-id").values_list("occurred_at", "state", "error_code").first()
        if row is not None:
            found[(cp_id, key)] = row
    return found


def history_streams(cp_id: int, start: datetime, end: datetime, loaded: LoadedHistory) -> dict[object, list[Event]]:
    """Per stream: its state at ``start`` (if any was reported before) and
    its events within the window, in order; a disconnection gets an
    "unknown" event where the charger was next heard from."""
    numbers = loaded.numbers.get(cp_id, set())
    rows = loaded.rows.get(cp_id, [])
    streams: dict[object, list[Event]] = defaultdict(list)
    last_heard_before = None  # the latest status of any stream before the window
    whole_at = None  # when the connector-less state in force at the start was reported
    for key in [WHOLE, *sorted(numbers)]:
        row = loaded.prior.get((cp_id, key))
        if row is not None:
            streams[key].append(Event(start, row[1], row[2]))
            if key != WHOLE and (last_heard_before is None or row[0] > last_heard_before):
                last_heard_before = row[0]
            if key == WHOLE:
                whole_at = row[0]
    for connector, at, state, error_code in rows:
        streams[stream_key(connector)].append(Event(at, state, error_code))

    whole = streams.get(WHOLE)
    if whole:
        if whole_at is not None and whole[0].at == start and whole[0].state == S.DISCONNECTED:
            # Still disconnected at the start only if nothing was heard since.
            heard = ((last_heard_before is not None and last_heard_before > whole_at)
                     or loaded.beats[(cp_id, whole_at, start)] is not None)
            if heard:
                whole[0] = Event(start, S.UNKNOWN, "")
        others = sorted(e.at for key, events in streams.items() if key != WHOLE for e in events if e.at > start)
        ended: list[Event] = []
        for index, event in enumerate(whole):
            ended.append(event)
            if event.state != S.DISCONNECTED:
                continue
            limit = whole[index + 1].at if index + 1 < len(whole) else end
            back = [at for at in others if event.at < at < limit]
            beat = loaded.beats[(cp_id, event.at, limit)]
            candidates = [at for at in [*back[:1], beat] if at is not None]
            if candidates:
                ended.append(Event(min(candidates), S.UNKNOWN, ""))
        streams[WHOLE] = ended
    return streams
