"""Benchmark of the back-office dashboards (support on /admin/, a team's
admin on /operator/) on PostgreSQL, uncached, read from the report tallies
(reporting/tallies.py) against the previous approach in the same run.

    .venv/bin/python bench/dashboard.py [--reports 1000000] [--charge-points 100000] [--runs 7]

Seeds 100 teams, ``--charge-points`` charge points and ``--reports``
reports over 90 days with SQL (once; later runs reuse them; the tallies
are rebuilt from the seeded reports, which times the backfill), with
response-time targets so the targets' counts are computed, then measures:

* the dashboard page, cache cleared before each request: from the tallies,
  and with the figures computed the previous way (grouped queries over the
  reports, ``report_dashboard_figures_from_reports``), for both users;
* the figures alone (the selector), both ways, checking they are equal;
* what the tallies cost writers: filing 1,000 system reports in one
  statement (the sweep's path) with the triggers and without them, and
  folding those changes into the tallies.

It prints Markdown tables; docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_setup, median_seconds, seed_fleet_sql, seed_reports_sql  # noqa: E402

bench_setup("bench_summary")

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Membership, Role, Team, User  # noqa: E402
from chargepoints.models import ChargePoint  # noqa: E402
from reporting import selectors, tallies  # noqa: E402
from reporting.admin import dashboard as dashboard_module  # noqa: E402
from reporting.catalogue import Reason, Source  # noqa: E402
from reporting.models import Report  # noqa: E402
from reporting.services import report_file_system_bulk  # noqa: E402
from reporting.settings_models import ResponseTarget  # noqa: E402

settings.ALLOWED_HOSTS = ["testserver"]
settings.DEBUG = False


class Rollback(Exception):
    pass


def users() -> tuple[User, User]:
    from django.contrib.auth.models import Group

    from accounts.models import SUPPORT_GROUP

    support, _ = User.objects.get_or_create(email="bench-support@example.com", defaults={"is_staff": True})
    support.groups.add(Group.objects.get_or_create(name=SUPPORT_GROUP)[0])
    team = Team.objects.filter(name__startswith="Bench team").order_by("pk").first()
    operator, _ = User.objects.get_or_create(email="bench-operator@example.com")
    Membership.objects.get_or_create(user=operator, team=team, defaults={"role": Role.ADMIN})
    return support, operator


def targets() -> None:
    """A default target per source and one team's own, so the counts are read."""
    team = Team.objects.filter(name__startswith="Bench team").order_by("pk")[1]
    for source in (Source.USER, Source.SUPPORT, Source.SYSTEM):
        ResponseTarget.objects.get_or_create(team=None, source=source, defaults={
            "time_to_assign": timedelta(hours=4), "time_to_resolve": timedelta(days=3)})
    ResponseTarget.objects.get_or_create(team=team, source=Source.USER, defaults={
        "time_to_resolve": timedelta(hours=36)})


def page_runner(client: Client, url: str):
    def run():
        cache.clear()
        response = client.get(url)
        assert response.status_code == 200 and 'id="dashboard"' in response.content.decode(), url

    return run


def filing_runner(charge_points: list[dict]):
    """File 1,000 system reports in one statement, then roll back."""
    def run():
        try:
            with transaction.atomic():
                report_file_system_bulk(reason=Reason.DISCONNECTED, offenders=charge_points, now=timezone.now())
                raise Rollback
        except Rollback:
            pass

    return run


def without_triggers(run):
    def wrapped():
        try:
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute("ALTER TABLE reporting_report DISABLE TRIGGER USER")
                run()
                raise Rollback
        except Rollback:
            pass

    return wrapped


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--charge-points", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    seed_fleet_sql(args.charge_points)
    seed_reports_sql(args.reports)
    targets()
    print(f"data ready in {time.perf_counter() - started:.0f} s: {Report.objects.count():,} reports", flush=True)
    started = time.perf_counter()
    tallies.tallies_rebuild()
    rebuild_s = time.perf_counter() - started
    print(f"tallies rebuilt in {rebuild_s:.1f} s", flush=True)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")

    support, operator = users()
    tallied = dashboard_module.report_dashboard_figures
    rows = []
    for who, user, prefix in [("support", support, "admin"), ("operator", operator, "operator")]:
        client = Client()
        client.force_login(user)
        ours, theirs = (selectors.report_dashboard_figures(actor=user),
                        selectors.report_dashboard_figures_from_reports(actor=user))
        for figures in (ours, theirs):
            figures.pop("computed_at")
        assert ours == theirs, f"{who}: the tallies' figures differ from the reports'"
        page_ours = median_seconds(page_runner(client, f"/{prefix}/"), runs=args.runs)
        dashboard_module.report_dashboard_figures = selectors.report_dashboard_figures_from_reports
        try:
            page_before = median_seconds(page_runner(client, f"/{prefix}/"), runs=max(3, args.runs // 2))
        finally:
            dashboard_module.report_dashboard_figures = tallied
        sel_ours = median_seconds(lambda user=user: selectors.report_dashboard_figures(actor=user), runs=args.runs)
        sel_before = median_seconds(lambda user=user: selectors.report_dashboard_figures_from_reports(actor=user),
                                    runs=max(3, args.runs // 2))
        rows.append((who, page_ours, page_before, sel_ours, sel_before, ours["open_total"]))
        print(who, rows[-1], flush=True)

    offenders = [{"pk": pk, "owner_id": owner, "operator_id": operator_id, "description": "Bench disconnect."}
                 for pk, owner, operator_id in ChargePoint.objects.filter(ocpp_id__startswith="BENCH-")
                 .order_by("pk").values_list("pk", "owner_id", "operator_id")[:1000]]
    Report.objects.filter(source=Source.SYSTEM, reason=Reason.DISCONNECTED).delete()
    tallies.tallies_fold()
    filing_with = median_seconds(filing_runner(offenders), runs=args.runs)
    filing_without = median_seconds(without_triggers(filing_runner(offenders)), runs=args.runs)

    def fold_after_filing():
        try:
            with transaction.atomic():
                report_file_system_bulk(reason=Reason.DISCONNECTED, offenders=offenders, now=timezone.now())
                started = time.perf_counter()
                tallies.tallies_fold()
                fold_times.append(time.perf_counter() - started)
                raise Rollback
        except Rollback:
            pass

    fold_times: list[float] = []
    for _ in range(args.runs):
        fold_after_filing()
    fold_times.sort()
    fold_ms = fold_times[len(fold_times) // 2] * 1000

    print(f"\n{args.reports:,} reports, {args.charge_points:,} charge points, load average "
          f"{os.getloadavg()[0]:.1f}; tallies rebuilt (the migration's backfill) in {rebuild_s:.1f} s\n")
    print("| user | dashboard page, tallies ms | page, grouped queries ms | ratio | figures, tallies ms "
          "| figures, grouped queries ms | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for who, page_ours, page_before, sel_ours, sel_before, _total in rows:
        print(f"| {who} | {page_ours * 1000:.1f} | {page_before * 1000:.1f} | {page_before / page_ours:.1f}x | "
              f"{sel_ours * 1000:.1f} | {sel_before * 1000:.1f} | {sel_before / sel_ours:.1f}x |")
    print("\n| writers | ms |")
    print("|---|---:|")
    print(f"| file 1,000 system reports, with the tally trigger | {filing_with * 1000:.1f} |")
    print(f"| the same without it | {filing_without * 1000:.1f} |")
    print(f"| fold those 1,000 into the tallies | {fold_ms:.1f} |")


if __name__ == "__main__":
    main()
