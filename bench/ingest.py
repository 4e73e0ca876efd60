"""Benchmark of telemetry ingest on PostgreSQL.

    .venv/bin/python bench/ingest.py [--fresh] [--charge-points 10000] [--history 1000000] [--runs 15]
                                     [--workers 4] [--http-runs 5] [--batches 8] [--only service|http]

Seeds ``--charge-points`` charge points over 100 teams and ``--history``
telemetry rows (the mix below, random 36-character event ids, as senders
use UUIDs) with SQL, once (later runs reuse them); then prints the storage
per event (table and index bytes of the four telemetry tables from
``pg_total_relation_size``, divided by their rows) and per day at 5,000
events/s (``--fresh`` drops the database first, so that the figure is the
seed's alone: later runs add their batches' rows). Then, in the same run:

1. the service (``chargepoints.services.telemetry_record_batch``, called
   directly, batches of 1,000 over one team's 100 charge points: half
   heartbeats, a quarter state changes, a fifth signal readings, the rest
   finished charges) against, alternately, batch by batch:
   - baseline: the previous approach, the service's ORM bulk path
     (``_record_orm``: model instances, ``bulk_create``, a duplicate
     look-up per type) run on PostgreSQL;
   - lower bound: the same rows written with ``COPY`` into the four tables
     in one transaction, with no validation, no duplicate detection and no
     live state;
2. over HTTP (``bench/ingest_http.py``): gunicorn as Procfile.production
   starts it (production settings, on this benchmark's database, ``--workers``
   processes on a free loopback port), 1, 2 and 4 concurrent clients, each a
   team of its own posting batches of 1,000 with its own API key; the same
   again with the server on the ORM bulk path (a gunicorn config hook,
   ``bench/ingest_orm_baseline.py``), as the baseline.

Medians of the runs, events/s and ratios are printed, with the load average
before and after; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_setup, seed_fleet_sql, telemetry_events  # noqa: E402

DATABASE = "bench_ingest"
EVENTS_PER_SECOND_PER_DAY = 5_000 * 86_400
TELEMETRY_TABLES = ("chargepoints_heartbeat", "chargepoints_statechange", "chargepoints_signalreading",
                    "chargepoints_charge")


def make_events(ocpp_ids: list[str], count: int = 1000) -> list[dict]:
    """A batch of ``count`` events (bench/common.py's mix) with fresh UUID event ids."""
    return telemetry_events(ocpp_ids, count, lambda i: str(uuid.uuid4()))


# --- Seeding and storage ------------------------------------------------------------

def seed_history(rows: int) -> None:
    """``rows`` telemetry rows in the batches' mix over the bench fleet, the
    last day's worth of times; skipped when the seed is there."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM chargepoints_heartbeat WHERE received_at = '2000-01-01T00:00:00Z'")
        if cur.fetchone()[0] >= rows // 2:
            return
        for table in TELEMETRY_TABLES:
            cur.execute(f"DELETE FROM {table} WHERE received_at = '2000-01-01T00:00:00Z'")
        cps = """WITH cps AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM chargepoints_chargepoint
                              WHERE ocpp_id LIKE 'BENCH-%%'), total AS (SELECT count(*) AS c FROM cps)"""
        pick = "FROM generate_series(1, %s) g JOIN cps ON cps.n = g %% (SELECT c FROM total)"
        at = "now() - (g %% 86400) * interval '1 second'"
        # md5 as a UUID: a 36-character id, random over the index like a real one.
        eid = "md5(%s || g)::uuid::text"
        seeded = "'2000-01-01T00:00:00Z'"  # received_at marks the seed
        cur.execute(f"{cps} INSERT INTO chargepoints_heartbeat (charge_point_id, event_id, received_at, occurred_at) "
                    f"SELECT cps.id, {eid}, {seeded}, {at} {pick}", ["h", rows // 2])
        cur.execute(
            f"{cps} INSERT INTO chargepoints_statechange (charge_point_id, event_id, received_at, state, "
            "ocpp_status, error_code, vendor_error_code, occurred_at, connector) "
            f"SELECT cps.id, {eid}, {seeded}, (ARRAY['available','busy','error','available'])[1 + g %% 4], "
            f"(ARRAY['Available','Charging','Faulted','Available'])[1 + g %% 4], '', '', {at}, NULL {pick}",
            ["s", rows // 4])
        cur.execute(f"{cps} INSERT INTO chargepoints_signalreading (charge_point_id, event_id, received_at, kind, "
                    f"dbm, occurred_at) SELECT cps.id, {eid}, {seeded}, "
                    f"(ARRAY['wifi','cellular'])[1 + g %% 2], -60 - g %% 50, {at} {pick}", ["w", rows // 5])
        cur.execute(
            f"{cps} INSERT INTO chargepoints_charge (charge_point_id, event_id, received_at, started_at, ended_at, "
            "energy_wh, stop_reason, transaction_id, outcome, failure_reason) "
            f"SELECT cps.id, {eid}, {seeded}, {at} - interval '1 hour', {at}, (g * 37) %% 30000, 'Local', '', "
            "CASE WHEN g %% 30000 = 0 THEN 'failed' ELSE 'completed' END, "
            f"CASE WHEN g %% 30000 = 0 THEN 'No energy was delivered.' ELSE '' END {pick}",
            ["c", rows - rows // 2 - rows // 4 - rows // 5])
    connection.close()  # VACUUM cannot run in the transaction a cursor may hold
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")


def storage_per_event() -> tuple[int, float, dict[str, tuple[int, float, float]]]:
    """Rows in the four telemetry tables and their table + index bytes per
    row; and per table: rows, table bytes per row, index bytes per row."""
    from django.db import connection

    rows = size = 0
    tables = {}
    with connection.cursor() as cur:
        for table in TELEMETRY_TABLES:
            # Summed over the partitions (a partitioned parent has no storage
            # of its own; a plain table has no partition tree).
            cur.execute(f"SELECT (SELECT count(*) FROM {table}), sum(pg_total_relation_size(relid)), "
                        f"sum(pg_indexes_size(relid)) FROM (SELECT relid FROM pg_partition_tree('{table}') "
                        f"UNION SELECT '{table}'::regclass) AS t")
            count, total, indexes = cur.fetchone()
            rows, size = rows + count, size + int(total)
            total, indexes = int(total), int(indexes)
            tables[table] = (count, (total - indexes) / max(count, 1), indexes / max(count, 1))
    return rows, size / rows, tables


# --- The service ------------------------------------------------------------------------

def copy_lower_bound(events: list[dict], cp_ids: dict[str, int]) -> None:
    """The same rows, already clean, written with COPY into the four tables
    in one transaction: no validation, duplicates or live state."""
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    from chargepoints.telemetry_validation import OCPP_STATUS_STATE

    now = timezone.now()
    by_kind: dict[str, list] = {"heartbeat": [], "state_change": [], "signal": [], "charge": []}
    for e in events:
        cp, at = cp_ids[e["ocpp_id"]], parse_datetime(e["occurred_at"])
        if e["type"] == "heartbeat":
            by_kind["heartbeat"].append((cp, e["event_id"], now, at))
        elif e["type"] == "state_change":
            by_kind["state_change"].append((cp, e["event_id"], now, OCPP_STATUS_STATE[e["status"]], e["status"],
                                            "", "", at))
        elif e["type"] == "signal":
            by_kind["signal"].append((cp, e["event_id"], now, e["kind"], e["dbm"], at))
        else:
            by_kind["charge"].append((cp, e["event_id"], now, parse_datetime(e["started_at"]), at, e["energy_wh"],
                                      e["stop_reason"], "", "completed", ""))
    statements = {
        "heartbeat": "chargepoints_heartbeat (charge_point_id, event_id, received_at, occurred_at)",
        "state_change": "chargepoints_statechange (charge_point_id, event_id, received_at, state, ocpp_status, "
                        "error_code, vendor_error_code, occurred_at)",
        "signal": "chargepoints_signalreading (charge_point_id, event_id, received_at, kind, dbm, occurred_at)",
        "charge": "chargepoints_charge (charge_point_id, event_id, received_at, started_at, ended_at, energy_wh, "
                  "stop_reason, transaction_id, outcome, failure_reason)",
    }
    with transaction.atomic():
        connection.ensure_connection()
        with connection.connection.cursor() as cur:
            for kind, rows in by_kind.items():
                with cur.copy(f"COPY {statements[kind]} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)


def bench_service(runs: int) -> dict[str, float]:
    """Median seconds per batch of 1,000: ours, the ORM bulk path, COPY."""
    from accounts.models import Team
    from chargepoints.models import ChargePoint
    from chargepoints.services import batch, telemetry_record_batch

    team = Team.objects.get(name="Bench team 2")
    cps = dict(ChargePoint.objects.filter(owner=team).values_list("ocpp_id", "pk"))
    ocpp_ids = sorted(cps)

    def ours(events):
        results = telemetry_record_batch(events=events)
        assert all(r.status == "accepted" for r in results), [r for r in results if r.status != "accepted"][:3]

    def orm(events):
        with mock.patch.object(batch, "_record_postgresql", batch._record_orm):
            ours(events)

    methods = {"service": ours, "ORM bulk path (baseline)": orm,
               "COPY (lower bound)": lambda events: copy_lower_bound(events, cps)}
    times: dict[str, list[float]] = {name: [] for name in methods}
    for attempt in range(runs + 1):  # the first round warms up
        for name, method in methods.items():
            events = make_events(ocpp_ids)
            start = time.perf_counter()
            method(events)
            if attempt:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--charge-points", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=1_000_000, help="telemetry rows seeded")
    parser.add_argument("--runs", type=int, default=15, help="batches per method, service")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--http-runs", type=int, default=5, help="runs per client count")
    parser.add_argument("--batches", type=int, default=8, help="batches each client posts per run")
    parser.add_argument("--clients", default="1,2,4")
    parser.add_argument("--only", choices=["service", "http"])
    parser.add_argument("--fresh", action="store_true",
                        help="drop the benchmark's database first: the storage figure is then the seed's alone")
    args = parser.parse_args()

    if args.fresh:
        import psycopg

        with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
    bench_setup(DATABASE)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    seed_fleet_sql(args.charge_points)
    seed_history(args.history)
    rows, per_event, tables = storage_per_event()
    print(f"\nStorage: {rows:,} telemetry rows, {per_event:,.0f} bytes per event (table + indexes); "
          f"at 5,000 events/s: {per_event * EVENTS_PER_SECOND_PER_DAY / 1e9:,.1f} GB per day")
    for table, (count, heap, indexes) in tables.items():
        print(f"  {table:28} {count:>10,} rows {heap:6.0f} B/row table {indexes:6.0f} B/row indexes")

    if args.only != "http":
        medians = bench_service(args.runs)
        ours = medians["service"]
        print(f"\nService, batches of 1,000 (median of {args.runs} batches each, alternating)")
        for name, seconds in medians.items():
            print(f"  {name:28} {seconds * 1000:7.1f} ms  {1000 / seconds:9,.0f} events/s  "
                  f"service is {seconds / ours:.2f}x its speed")
    if args.only != "service":
        from ingest_http import bench_http

        clients = [int(n) for n in args.clients.split(",")]
        bench_http(clients=clients, workers=args.workers, runs=args.http_runs, batches=args.batches,
                   database=DATABASE, make_events=make_events)
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
