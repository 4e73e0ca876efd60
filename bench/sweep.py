"""Benchmark: the health sweep on a large fleet, against a raw-SQL lower bound.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_sweep \\
        .venv/bin/python bench/sweep.py --charge-points 100000

Seeds N charge points (1% in trouble, spread over the five checks, plus
healthy telemetry for everyone: a recent signal reading for every Wi-Fi and
cellular charge point, completed charges, and near misses the checks must
look at and reject), then times in one run:

- the first pass, which files the reports (reports deleted before each run);
- a pass where nothing changed (only repeat detections are counted);
- raw SQL that finds the same offenders (one statement, the lower bound for
  finding), and raw SQL that finds and files them (reports and their timeline
  rows in two INSERT ... SELECT statements, no notifications), writing the
  same descriptions and timeline notes as the sweep (checked);

and then the incremental engine (reporting/health/engine.py), each against
the previous approach (the full sweep every minute) in the same run:

- the engine's first pass (a full evaluation that also stores deadlines),
  as configured (``HEALTH_FULL_PASS_WORKERS`` parts at once, each on a
  connection of its own) and in one part on one connection, as the raw
  SQL runs;
- an engine pass with nothing changed or due;
- an engine pass after 100 and after 1,000 charge points changed (state
  changes sent through the telemetry service, untimed, before each run),
  against the full sweep after the same number of changes;
- the hourly reconciliation (every check over the fleet, compared with the
  incremental state: it must find no difference);

and prints medians and ratios, and the peak Python memory of a pass
(tracemalloc, in a separate untimed run). The sweep runs as the Celery task
did before the engine: in id-range chunks of 100,000 (``PREVIOUS_CHUNK``), here
one after the other in one process (one worker). Without DATABASE_URL the
database is bench_sweep_<N>, created if missing.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from common import bench_setup, median_seconds, seed_fleet_sql
from sweep_data import FILE_SQL, OFFENDERS_SQL, TROUBLE_MODULO, clear_reports, seed_trouble, seed_windows

# The Celery task's chunk before the incremental engine (the previous approach).
PREVIOUS_CHUNK = 100_000

def sweep_all(now):
    """The whole sweep as the Celery task ran it, chunk after chunk."""
    from reporting.health.sweep import SweepResult, health_sweep, health_sweep_chunks

    total = SweepResult()
    for first_id, last_id in health_sweep_chunks(chunk_size=PREVIOUS_CHUNK):
        total.merge(health_sweep(first_id=first_id, last_id=last_id, now=now))
    return total


def peak_memory(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charge-points", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (median)")
    parser.add_argument("--without-new-features", action="store_true",
                        help="no maintenance windows, site outages off, flapping out of reach")
    args = parser.parse_args()

    bench_setup(f"bench_sweep_{args.charge_points}")
    from django.db import connection

    started = time.perf_counter()
    seed_fleet_sql(args.charge_points)
    now = seed_trouble()
    if not args.without_new_features:
        seed_windows(now)
    else:
        from reporting.models import MaintenanceWindow

        MaintenanceWindow.objects.all().delete()
        from django.conf import settings

        settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "site_outage": {"enabled": False},
                                  "flapping": {"flips": 10**9, "window_minutes": 1, "hold_down_minutes": 0}}
    print(f"Seeded {args.charge_points:,} charge points in {time.perf_counter() - started:.1f} s")

    def raw_find():
        with connection.cursor() as cur:
            cur.execute(OFFENDERS_SQL, {"now": now})
            return cur.fetchall()

    def raw_file():
        with connection.cursor() as cur:
            cur.execute(FILE_SQL, {"now": now})

    found = raw_find()
    expected = sorted((cp_id, reason) for cp_id, reason, _description in found)
    clear_reports()
    first = sweep_all(now)
    from reporting.models import Report, SilencedDetection

    written = set(Report.objects.filter(source="system").values_list("charge_point_id", "reason", "description"))
    filed = sorted((cp_id, reason) for cp_id, reason, _description in written)
    silenced = sorted(SilencedDetection.objects.values_list("charge_point_id", "reason"))
    assert sorted(filed + silenced) == expected, (
        f"the sweep filed {len(filed)} reports and silenced {len(silenced)}, raw SQL finds {len(expected)} offenders")
    # The bound writes what the sweep writes: the same texts (a shorter one
    # would cost the report table's trigram index less).
    assert written <= set(found), sorted(written - set(found))[:3]
    if silenced:
        print(f"In maintenance windows: {len(silenced):,} offenders not filed (would have filed)")
    in_trouble = args.charge_points // TROUBLE_MODULO * 5
    print(f"Offenders: {len(expected):,} (seeded ~{in_trouble:,}); first pass filed {first.as_dict()['filed']:,}")

    runs = {"runs": args.runs, "warmup": 0}
    first_pass = median_seconds(lambda: sweep_all(now), before=clear_reports, **runs)
    sweep_all(now)
    no_change = median_seconds(lambda: sweep_all(now), **runs)
    find = median_seconds(raw_find, **runs)
    file_sql = median_seconds(raw_file, before=clear_reports, **runs)

    clear_reports()
    memory_first = peak_memory(lambda: sweep_all(now))
    memory_again = peak_memory(lambda: sweep_all(now))

    rows = [
        ("sweep, first pass (files the reports)", first_pass),
        ("sweep, no-change pass", no_change),
        ("raw SQL: find the offenders", find),
        ("raw SQL: find and file (reports + timeline)", file_sql),
    ]
    print(f"\n{args.charge_points:,} charge points, {len(expected):,} offenders, medians of {args.runs} runs")
    for label, seconds in rows:
        print(f"  {label:<46} {seconds * 1000:9.1f} ms")
    print(f"  first pass / raw find-and-file                 {first_pass / file_sql:9.1f} x")
    print(f"  first pass / raw find                          {first_pass / find:9.1f} x")
    print(f"  peak Python memory: first pass {memory_first / 1024:,.0f} KiB, no-change pass {memory_again / 1024:,.0f} KiB")
    engine(now, runs, no_change, file_sql)


def engine(now, runs: dict, full_no_change: float, file_sql: float) -> None:
    """The incremental engine's passes, each against the full sweep."""
    from datetime import timedelta

    from django.db import connection

    from chargepoints.models import ChargePoint, HealthMark
    from chargepoints.services import telemetry_record_batch
    from reporting.health.engine import health_pass, health_reconcile
    from reporting.models import HealthDeadline, HealthEngineState, MaintenanceWindow

    def reset():
        clear_reports()
        HealthEngineState.objects.all().delete()
        HealthDeadline.objects.all().delete()
        HealthMark.objects.all().delete()

    from django.conf import settings

    workers = settings.HEALTH_CHECKS["full_pass_workers"]
    first = median_seconds(lambda: health_pass(now=now), before=reset, **runs)
    in_parts = settings.HEALTH_CHECKS
    settings.HEALTH_CHECKS = {**in_parts, "full_pass_workers": 1}
    first_one = median_seconds(lambda: health_pass(now=now), before=reset, **runs)
    settings.HEALTH_CHECKS = in_parts
    reset()
    health_pass(now=now)
    # Thousands of new reports: analyze, as autovacuum soon would, so the
    # planner knows the open reports are per charge point, not per reason.
    with connection.cursor() as cur:
        cur.execute("ANALYZE reporting_report")
        cur.execute("ANALYZE reporting_healthdeadline")
    assert health_pass(now=now).looked_at == 0
    quiet = median_seconds(lambda: health_pass(now=now), **runs)

    # Healthy charge points outside any maintenance window go into error
    # (a quarter of an hour ago, so each pass files them), fresh ones each run.
    windowed = MaintenanceWindow.objects.filter(charge_point__isnull=False).values("charge_point_id")
    needed = 2 * (runs["runs"] + runs["warmup"] + 1) * 1100
    pool = list(ChargePoint.objects.filter(state="available", site__isnull=False).exclude(pk__in=windowed)
                .order_by("-pk").values_list("ocpp_id", flat=True)[:needed])
    if len(pool) < needed:
        raise SystemExit(f"The engine's change runs need {needed:,} healthy charge points and the fleet has "
                         f"{len(pool):,}: use --charge-points 20000 or more, or fewer --runs.")
    pool = iter(pool)
    seen = now - timedelta(minutes=15)

    def change(n: int):
        ocpp_ids = [next(pool) for _ in range(n)]
        events = [{"event_id": f"bench-{ocpp_id}-{seen.timestamp()}", "type": "state_change", "ocpp_id": ocpp_id,
                   "state": "error", "occurred_at": seen.isoformat()} for ocpp_id in ocpp_ids]
        for start in range(0, n, 1000):
            telemetry_record_batch(events=events[start:start + 1000])

    changed = {}
    for n in (100, 1000):
        filed = []
        engine_n = median_seconds(lambda filed=filed: filed.append(health_pass(now=now).sweep.as_dict()["filed"]),
                                  before=lambda n=n: change(n), **runs)
        assert set(filed) == {n}, filed
        full_n = median_seconds(lambda: sweep_all(now), before=lambda n=n: change(n), **runs)
        changed[n] = (engine_n, full_n)
    health_pass(now=now)  # takes the marks the full sweeps' changes left

    outcomes = []
    reconcile = median_seconds(lambda: outcomes.append(health_reconcile(now=now)), **runs)
    assert {o.total for o in outcomes} == {0}, [o.examples for o in outcomes if o.total]

    print("\nIncremental engine (same data, same clock), medians")
    print(f"  engine first pass, {workers} parts at once            {first * 1000:9.1f} ms"
          f"   {first / file_sql:5.2f} x raw find-and-file")
    print(f"  engine first pass, one part (one connection)   {first_one * 1000:9.1f} ms"
          f"   {first_one / file_sql:5.2f} x raw find-and-file")
    print(f"  engine pass, nothing changed                   {quiet * 1000:9.1f} ms"
          f"   full sweep {full_no_change * 1000:.1f} ms: {full_no_change / quiet:,.0f} x less")
    for n, (engine_n, full_n) in changed.items():
        print(f"  engine pass, {n:>5,} changed (filed)            {engine_n * 1000:9.1f} ms"
              f"   full sweep {full_n * 1000:.1f} ms: {full_n / engine_n:,.1f} x less")
    print(f"  reconciliation (no difference found)           {reconcile * 1000:9.1f} ms"
          f"   {reconcile / full_no_change:5.1f} x a full no-change sweep")


if __name__ == "__main__":
    main()
