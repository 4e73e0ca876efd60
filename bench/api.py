"""Benchmark of the integrator API on PostgreSQL.

    .venv/bin/python bench/api.py [--reports 1000000] [--runs 15]

Seeds a fleet and 1,000,000 reports with SQL (once; later runs reuse them),
then measures through Django's test client, in the same run:

* GET /api/v1/reports/ (cursor pagination, one query for the rows) against a
  naive ModelViewSet with page-number pagination and no select_related,
  defined below: first page and a filtered page, medians, and the query count
  at two page sizes;
* POST /api/v1/telemetry/ with batches of 1,000 events against one event per
  request (when the telemetry service exists).

It prints the figures and ratios; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_setup, median_seconds, seed_fleet_sql, seed_reports_sql  # noqa: E402

bench_setup("bench_api")

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import clear_url_caches, include, path  # noqa: E402
from rest_framework import pagination, viewsets  # noqa: E402

from accounts.api.throttles import ApiKeyRateThrottle, TelemetryRateThrottle  # noqa: E402
from accounts.models import ApiKey, Role, Team, User  # noqa: E402
from accounts.services import api_key_create  # noqa: E402
from reporting.api.serializers import ReportSerializer  # noqa: E402
from reporting.models import Report  # noqa: E402

# --- The naive version, for comparison ---------------------------------------


class NaivePagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"


class NaiveReportViewSet(viewsets.ReadOnlyModelViewSet):
    """What a first cut looks like: the same serializer and filters, page
    numbers (a COUNT(*) per page) and no select_related (queries per row)."""

    serializer_class = ReportSerializer
    pagination_class = NaivePagination
    filterset_fields = ["state", "reason", "source"]

    def get_queryset(self):
        return Report.objects.for_user(self.request.user).order_by("-created_at", "-id")


bench_urls = types.ModuleType("bench_urls")
bench_urls.urlpatterns = [
    path("naive/reports/", NaiveReportViewSet.as_view({"get": "list"})),
    path("", include("config.urls")),
]
sys.modules["bench_urls"] = bench_urls
settings.ROOT_URLCONF = "bench_urls"
clear_url_caches()
# Measure the work, not the rate limits.
ApiKeyRateThrottle.THROTTLE_RATES = {"api_key": "100000000/min"}
TelemetryRateThrottle.THROTTLE_RATES = {"telemetry": "100000000/min"}


def key_for(team: Team, role=Role.ADMIN) -> str:
    support, _ = User.objects.get_or_create(
        email="bench-support@example.com", defaults={"is_staff": True, "is_superuser": True}
    )
    ApiKey.objects.filter(team=team, name="bench").delete()
    return api_key_create(team=team, name="bench", role=role, by=support)[1]


def timed_get(client: Client, url: str, runs: int) -> tuple[float, int]:
    def call():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        return response

    seconds = median_seconds(call, runs=runs, warmup=2)
    with CaptureQueriesContext(connection) as ctx:
        call()
    return seconds, len(ctx.captured_queries)


def bench_report_list(runs: int) -> list[tuple]:
    team = Team.objects.get(name="Bench team 1")
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {key_for(team)}")
    visible = Report.objects.for_user(ApiKey.objects.filter(team=team).first()).count()
    print(f"Reports in the database: {Report.objects.count():,}; visible to the team's key: {visible:,}")
    # The seed gives each team's reports one state; filter on that one so
    # the filtered page is full: state and reason (1 in 7 of the reports).
    state = Report.objects.for_user(ApiKey.objects.filter(team=team).first()).values_list(
        "state", flat=True
    ).first()
    query = f"state={state}&reason=broken"
    support = User.objects.get(email="bench-support@example.com")
    support_client = Client(HTTP_HOST="localhost")
    support_client.force_login(support)
    rows = []
    cases = [
        ("team key: first page", client, "?"),
        (f"team key: filtered ({query})", client, f"?{query}&"),
        ("support, all reports: first page", support_client, "?"),
        ("support, all reports: filtered (reason=broken)", support_client, "?reason=broken&"),
    ]
    for label, who, prefix in cases:
        for size in (10, 100):
            ours, our_queries = timed_get(who, f"/api/v1/reports/{prefix}page_size={size}", runs)
            naive, naive_queries = timed_get(who, f"/naive/reports/{prefix}page_size={size}", runs)
            rows.append((label, size, ours, our_queries, naive, naive_queries))
    return rows


def bench_ingest(runs: int):
    try:
        from chargepoints.services import telemetry_record_batch  # noqa: F401
    except ImportError:
        print("Telemetry ingest: chargepoints.services.telemetry_record_batch does not exist yet; skipped.")
        return None
    from bench_ingest import run_ingest_bench  # defined next to this file

    return run_ingest_bench(runs=runs, key_for=key_for)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--charge-points", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    seed_fleet_sql(args.charge_points)
    seed_reports_sql(args.reports)

    print(f"\nGET /api/v1/reports/ (median of {args.runs}, Django test client, PostgreSQL)")
    print(f"{'case':50} {'size':>4} {'ours ms':>8} {'q':>3} {'naive ms':>9} {'q':>4} {'ratio':>6}")
    for label, size, ours, oq, naive, nq in bench_report_list(args.runs):
        print(f"{label:50} {size:>4} {ours * 1000:>8.1f} {oq:>3} {naive * 1000:>9.1f} {nq:>4} {naive / ours:>5.1f}x")

    bench_ingest(args.runs)


if __name__ == "__main__":
    main()
