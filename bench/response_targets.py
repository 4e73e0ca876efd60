"""Benchmark of the response-time targets on PostgreSQL.

    .venv/bin/python bench/response_targets.py [--reports 200000] [--charge-points 20000] [--runs 5]

Seeds charge points of 100 teams and reports (half of them unresolved,
filed over the last 90 days) with SQL (once; later runs reuse them), sets a
default target per source (assign within a day, resolve within a week) and
measures, in one run:

* the dashboard's breached / at-risk counts over every report (support) and
  over one team's (an operator), against the baseline of the same run: a
  plain count of the unresolved reports;
* the first check, which records the backlog of breaches (breaches per
  second), and a steady-state check with nothing new due, against the
  baseline of a plain count of the unresolved reports past their filing
  time plus a day.

It prints a Markdown table; docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_setup, median_seconds, seed_fleet_sql, seed_reports_sql  # noqa: E402

bench_setup("bench_response_targets")

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Team  # noqa: E402
from reporting import response_target_services  # noqa: E402
from reporting.models import Report, ReportEvent  # noqa: E402
from reporting.response_targets import response_target_counts  # noqa: E402
from reporting.settings_models import ResponseBreach, ResponseTarget  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--charge-points", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    seed_fleet_sql(args.charge_points)
    seed_reports_sql(args.reports)
    ResponseBreach.objects.all().delete()
    ReportEvent.objects.filter(kind="target_missed").delete()
    ResponseTarget.objects.all().delete()
    for source in ("system", "user", "support"):
        ResponseTarget.objects.create(source=source, time_to_assign=timedelta(days=1), time_to_resolve=timedelta(days=7))
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    # The e-mails of the timeline rows are the notifications app's business:
    # measured here is the check alone.
    response_target_services.enqueue_on_commit = lambda *a, **k: None

    team = Team.objects.filter(name__startswith="Bench team").order_by("id").first()
    every = Report.objects.all()
    one_team = Report.objects.filter(charge_point__operator=team)
    unresolved = Report.objects.exclude(state="resolved")
    now = timezone.now()
    rows = []
    for label, reports in (("support (every report)", every), ("operator (one team)", one_team)):
        ours = median_seconds(lambda r=reports: response_target_counts(r, now=now), runs=args.runs)
        base = median_seconds(lambda r=reports: r.exclude(state="resolved").count(), runs=args.runs)
        rows.append((f"dashboard counts, {label}", ours, base, "count of unresolved"))

    start = time.perf_counter()
    counts = response_target_services.response_targets_check(now=now)
    first = time.perf_counter() - start
    recorded = counts["assign"] + counts["resolve"]

    steady = median_seconds(lambda: response_target_services.response_targets_check(now=now), runs=args.runs)
    base = median_seconds(
        lambda: unresolved.filter(created_at__lte=now - timedelta(days=1)).count(), runs=args.runs
    )
    rows.append(("check, nothing new due", steady, base, "count of unresolved past a day"))

    print(f"{Report.objects.count():,} reports, {unresolved.count():,} unresolved; "
          f"first check recorded {recorded:,} breaches in {first:.1f} s ({recorded / first:,.0f} per second)\n")
    print("| measure | ours ms | baseline ms | ours / baseline | baseline |")
    print("|---|---:|---:|---:|---|")
    for label, ours, base, what in rows:
        print(f"| {label} | {ours * 1000:.1f} | {base * 1000:.1f} | {ours / base:.1f}x | {what} |")


if __name__ == "__main__":
    main()
