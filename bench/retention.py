"""Benchmark of the telemetry retention run on PostgreSQL.

    .venv/bin/python bench/retention.py [--charge-points 10000] [--history 1000000] [--runs 5]

Seeds the fleet and ``--history`` telemetry rows as ``bench/ingest.py``
does (the same mix, over the last day; skipped when there), then measures,
each run in a transaction rolled back afterwards so every run finds the
same rows:

- ours: ``telemetry_retention_apply`` run as if 40 days later, so every
  heartbeat and signal reading is past the 30-day retention: their
  partitions are dropped (the coming days' partitions are made beforehand,
  so this is the drop alone; the default partitions' old rows are deleted
  too, none here);
- baseline: what it replaces, ``DELETE`` of the same heartbeat and signal
  reading rows (what the SQLite path does, and what a plain table needs),
  not counting the VACUUM that must then reclaim their space.

Prints the medians, the ratio, the rows removed and the load average.
"""

from __future__ import annotations

import os
import statistics
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_setup, median_seconds, seed_fleet_sql  # noqa: E402

DATABASE = "bench_retention"


class _Rollback(Exception):
    pass


def _rolled_back(fn):
    """Run ``fn`` in a transaction and undo it."""
    from django.db import transaction

    def run():
        try:
            with transaction.atomic():
                fn()
                raise _Rollback
        except _Rollback:
            pass

    return run


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--charge-points", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    bench_setup(DATABASE)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    from ingest import seed_history

    seed_fleet_sql(args.charge_points)
    seed_history(args.history)

    from django.db import connection
    from django.utils import timezone

    from chargepoints.services import telemetry_retention_apply

    later = timezone.now() + timedelta(days=40)
    cutoff = later - timedelta(days=30)
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM chargepoints_heartbeat WHERE occurred_at < %s) + "
                       "(SELECT count(*) FROM chargepoints_signalreading WHERE occurred_at < %s)", [cutoff, cutoff])
        rows = cursor.fetchone()[0]
    report = {}
    # The coming days' partitions made first (kept: nothing is past a
    # 1,000-day retention), so the runs measure the drops alone.
    from django.test import override_settings

    with override_settings(TELEMETRY_RETENTION_DAYS=1000, TELEMETRY_HISTORY_RETENTION_DAYS=1000):
        telemetry_retention_apply(now=later)

    def ours():
        report.update(telemetry_retention_apply(now=later).as_dict())

    def delete_rows():
        with connection.cursor() as cursor:
            for table in ("chargepoints_heartbeat", "chargepoints_signalreading"):
                cursor.execute(f"DELETE FROM {table} WHERE occurred_at < %s", [cutoff])

    medians = {}
    for _ in range(2):  # alternate, so that the machine's load falls on both
        medians.setdefault("ours", []).append(median_seconds(_rolled_back(ours), runs=args.runs))
        medians.setdefault("baseline", []).append(median_seconds(_rolled_back(delete_rows), runs=args.runs))
    # The median of both rounds' medians (their mean).
    ours_s, baseline_s = (statistics.median(times) for times in (medians["ours"], medians["baseline"]))
    print(f"\n{rows:,} heartbeats and signal readings past retention; the run dropped "
          f"{len(report['dropped'])} partitions and created {len(report['created'])}")
    print(f"  retention run (drop partitions)   {ours_s * 1000:9.1f} ms")
    print(f"  DELETE of the rows (baseline)     {baseline_s * 1000:9.1f} ms   ours is {baseline_s / ours_s:,.1f}x faster")
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
