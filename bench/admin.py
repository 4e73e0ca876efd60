"""Benchmark of the back-office report screens on PostgreSQL.

    .venv/bin/python bench/admin.py [--reports 1000000] [--charge-points 100000] [--runs 7]

Seeds 100,000 charge points of 100 teams and 1,000,000 reports with SQL
(once; later runs reuse them), then measures through Django's test client,
logged in (force_login) as a support user on /admin/ and as an admin of one
team on /operator/:

* the reports list: default (unresolved), filtered (unresolved + reason,
  team + created range), searched (an OCPP id fragment, and a word of the
  description), the quick views (assigned to me, my team's, unassigned, all),
  at two page sizes, with the query count of each;
* a report's page;
* the dashboard (cache cleared before each request).

The searches use the trigram indexes of migration
reporting/0005_search_trigram_indexes.

And, in the same run, two baselines for the default list: Django's stock
ModelAdmin with the same columns (full COUNT(*), no list_select_related), and
the raw SQL lower bound (the list's row query alone, through a cursor); and
the operator's default page's row query scoped the previous way (joining the
charge point's owner and operator) against the report's team columns, as
the plain OR query and read by team ranges (``ReportQuerySet.by_ranges``);
and every list whose scope or team filter is an OR of team ranges (the
operator's, support's team filter) again with the plain OR query, the
approach before ``by_ranges``; and the searches again with PostgreSQL's
JIT on (the settings turn it off for the application's connections).

It prints a Markdown table; docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_setup, median_seconds, plain_or_scope, seed_fleet_sql, seed_reports_sql  # noqa: E402

bench_setup("bench_admin")

from django.conf import settings  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.contrib.messages.storage.fallback import FallbackStorage  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.admin_sites import operator_site, support_site  # noqa: E402
from accounts.models import Membership, Role, Team, User  # noqa: E402
from reporting.models import Report  # noqa: E402

settings.ALLOWED_HOSTS = ["testserver"]

settings.DEBUG = False


def users() -> tuple[User, User, Team]:
    from django.contrib.auth.models import Group

    from accounts.models import SUPPORT_GROUP

    support, _ = User.objects.get_or_create(email="bench-support@example.com", defaults={"is_staff": True})
    support.groups.add(Group.objects.get_or_create(name=SUPPORT_GROUP)[0])
    team = Team.objects.filter(name__startswith="Bench team").order_by("pk").first()
    operator, _ = User.objects.get_or_create(email="bench-operator@example.com")
    Membership.objects.get_or_create(user=operator, team=team, defaults={"role": Role.ADMIN})
    return support, operator, team


class StockReportAdmin(admin.ModelAdmin):
    """Django's defaults with the same columns: a full COUNT(*) for the
    paginator and one for "N total", and the related columns fetched per row."""

    list_display = ["id", "charge_point", "site", "owner", "operator", "source", "reason", "state",
                    "assigned_party", "assigned_to", "created_at", "occurrences"]
    list_filter = ["state", "source", "reason", "assigned_party"]
    search_fields = ["description", "charge_point__name", "charge_point__ocpp_id", "charge_point__serial_number",
                     "charge_point__site__name"]

    def site(self, obj):
        return obj.charge_point.site.name

    def owner(self, obj):
        return obj.charge_point.owner.name

    def operator(self, obj):
        return obj.charge_point.operator.name

    def has_view_permission(self, request, obj=None):
        return True

    def has_module_permission(self, request):
        return True


def stock_changelist(user, per_page: int):
    stock = StockReportAdmin(Report, support_site)
    stock.list_per_page = per_page

    def run():
        request = RequestFactory().get("/admin/reporting/report/")
        request.user = user
        request.session = SessionStore()
        request._messages = FallbackStorage(request)
        response = stock.changelist_view(request)
        response.render()
        assert response.status_code == 200

    return run


def _raw_runner(queryset):
    """A callable running the queryset's SQL through a cursor: the database's
    time for the rows, without the ORM or the page around them."""
    sql, params = queryset.query.sql_with_params()

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    return run


def raw_sql_lower_bound(per_page: int):
    queryset = Report.objects.with_context().order_by("-created_at", "-id")[:per_page]
    return _raw_runner(queryset)


def ranges_rows(operator, per_page: int):
    """The operator's default page's rows read by team ranges (two queries:
    the UNION ALL of the ranges' ids, then the rows), through the ORM."""
    queryset = Report.objects.for_user(operator).unresolved().with_context().order_by("-created_at", "-id")

    def run():
        list(queryset.by_ranges()[:per_page])

    return run


def scoping_rows_query(operator, team: Team, per_page: int, *, columns: bool):
    """The operator's default page (unresolved, newest first) as raw SQL,
    scoped by the report's team columns (now) or by joining the charge point
    as before reporting/0024 (the previous ``for_user``)."""
    from django.db.models import Q

    from chargepoints.models import ChargePoint

    if columns:
        reports = Report.objects.for_user(operator)
    else:
        ids = [team.pk]
        sites = ChargePoint.objects.filter(Q(owner_id__in=ids) | Q(operator_id__in=ids)).values("site_id")
        reports = Report.objects.filter(
            Q(charge_point__owner_id__in=ids) | Q(charge_point__operator_id__in=ids)
            | (Q(charge_point__isnull=True, site__isnull=False) & (Q(site__team_id__in=ids) | Q(site_id__in=sites)))
        )
    queryset = reports.unresolved().with_context().order_by("-created_at", "-id")[:per_page]
    return _raw_runner(queryset)


@contextlib.contextmanager
def jit_on():
    """PostgreSQL's JIT on for the benchmark's connection, as it was before
    the settings turned it off (``DATABASE_JIT``)."""
    with connection.cursor() as cursor:
        cursor.execute("SET jit = on")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")  # the connection's own setting (settings: jit=off)


def measure(client: Client, url: str, runs: int, expect: str | None = None) -> tuple[float, int]:
    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if expect:
            assert expect in response.content.decode(), (url, expect)

    seconds = median_seconds(get, runs=runs)
    with CaptureQueriesContext(connection) as queries:
        get()
    return seconds * 1000, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--charge-points", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    seed_fleet_sql(args.charge_points)
    seed_reports_sql(args.reports)
    print(f"data ready in {time.perf_counter() - started:.0f} s: {Report.objects.count():,} reports", flush=True)

    support, operator, team = users()
    report = Report.objects.filter(charge_point__owner=team).order_by("-created_at").first()
    ocpp = report.charge_point.ocpp_id
    rows, jit = [], []
    for who, user, prefix in [("support", support, "admin"), ("operator", operator, "operator")]:
        client = Client()
        client.force_login(user)
        site = support_site if prefix == "admin" else operator_site
        report_admin = site._registry[Report]
        base = f"/{prefix}/reporting/report/"
        cases = [
            ("list, default", base, None),
            ("list, filtered (unresolved + reason)", base + "?state=unresolved&reason__exact=broken", None),
            ("list, filtered (team + created range)",
             base + f"?team={team.pk}&created_at__from=2000-01-01&created_at__to=2100-01-01", None),
            ("list, searched (OCPP id)", base + f"?q={ocpp[-6:]}", None),
            ("list, searched (description word)", base + "?q=report+12345", None),
            ("quick view: assigned to me", base + "?view=mine", None),
            ("quick view: my team's", base + "?view=team", None),
            ("quick view: unassigned", base + "?view=unassigned", None),
            ("quick view: all", base + "?state=all", None),
        ]
        for name, url, expect in cases:
            figures, plain = [], []
            ranged = who == "operator" or "team=" in url
            for per_page in (50, 200):
                report_admin.list_per_page = per_page
                figures.append(measure(client, url, args.runs, expect))
                if ranged:
                    with plain_or_scope():
                        plain.append(measure(client, url, args.runs, expect))
                if "?q=" in url:
                    with jit_on():
                        jit.append((who, name, per_page, figures[-1][0], measure(client, url, args.runs, expect)[0]))
            report_admin.list_per_page = 50
            rows.append((who, name, figures, plain))
            print(who, name, figures, plain, flush=True)
        page = measure(client, f"{base}{report.pk}/change/", args.runs, "Timeline")
        rows.append((who, "report page", [page, page], []))
        print(who, "report page", page, flush=True)

        def dashboard(client=client, prefix=prefix):
            cache.clear()
            assert client.get(f"/{prefix}/").status_code == 200

        with CaptureQueriesContext(connection) as queries:
            dashboard()
        count = len(queries.captured_queries)
        seconds = median_seconds(dashboard, runs=3)
        rows.append((who, "dashboard (uncached)", [(seconds * 1000, count)] * 2, []))
        print(who, "dashboard", seconds, flush=True)

    baselines = []
    for per_page in (50, 200):
        stock = stock_changelist(support, per_page)
        with CaptureQueriesContext(connection) as queries:
            stock()
        stock_ms = median_seconds(stock, runs=3) * 1000
        raw_ms = median_seconds(raw_sql_lower_bound(per_page), runs=args.runs) * 1000
        baselines.append((per_page, stock_ms, len(queries), raw_ms))

    scoping = []
    for per_page in (50, 200):
        joined = median_seconds(scoping_rows_query(operator, team, per_page, columns=False), runs=args.runs)
        own = median_seconds(scoping_rows_query(operator, team, per_page, columns=True), runs=args.runs)
        ranges = median_seconds(ranges_rows(operator, per_page), runs=args.runs)
        scoping.append((per_page, joined * 1000, own * 1000, ranges * 1000))

    print("\n| user | screen | 50 rows ms | q | 200 rows ms | q | plain OR scope: 50 rows ms | 200 rows ms |"
          " plain / ours (50, 200) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for who, name, ((ms50, q50), (ms200, q200)), plain in rows:
        cells = "| | |"
        if plain:
            (p50, _), (p200, _) = plain
            cells = f"{p50:.1f} | {p200:.1f} | {p50 / ms50:.1f}x, {p200 / ms200:.1f}x |"
        print(f"| {who} | {name} | {ms50:.1f} | {q50} | {ms200:.1f} | {q200} | {cells}")
    print("\nThe searches with PostgreSQL's JIT on (the connection's setting before DATABASE_JIT):\n")
    print("| user | screen | rows | jit off (ours) ms | jit on ms | on / off |")
    print("|---|---|---:|---:|---:|---:|")
    for who, name, per_page, off_ms, on_ms in jit:
        print(f"| {who} | {name} | {per_page} | {off_ms:.1f} | {on_ms:.1f} | {on_ms / off_ms:.1f}x |")
    ours = {who: figures for who, name, figures, _plain in rows if name == "list, default"}
    print("\nBaselines for the default list (support):\n")
    print("| rows | ours ms | stock ModelAdmin ms | q | stock / ours | raw SQL rows query ms | ours / raw |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for (per_page, stock_ms, stock_q, raw_ms), (ours_ms, _) in zip(baselines, ours["support"], strict=True):
        print(f"| {per_page} | {ours_ms:.1f} | {stock_ms:.1f} | {stock_q} | {stock_ms / ours_ms:.1f}x | "
              f"{raw_ms:.1f} | {ours_ms / raw_ms:.1f}x |")
    print("\nThe operator's default page, rows query alone: scoped through the charge point's teams "
          "(before reporting/0024, raw SQL), by the report's team columns as one OR (raw SQL), and read by "
          "team ranges (the UNION ALL of the ids, then the rows, through the ORM):\n")
    print("| rows | joined scoping ms | team columns (OR) ms | team ranges ms | joined / OR | OR / ranges |")
    print("|---:|---:|---:|---:|---:|---:|")
    for per_page, joined_ms, own_ms, ranges_ms in scoping:
        print(f"| {per_page} | {joined_ms:.1f} | {own_ms:.1f} | {ranges_ms:.1f} | {joined_ms / own_ms:.1f}x | "
              f"{own_ms / ranges_ms:.1f}x |")


if __name__ == "__main__":
    main()
