"""Benchmark of the integrator API on PostgreSQL.

    .venv/bin/python bench/api.py [--reports 1000000] [--runs 15]

Seeds a fleet and 1,000,000 reports with SQL (once; later runs reuse them),
then measures through Django's test client, in the same run:

* GET /api/v1/reports/ (cursor pagination; a team's page read as a UNION
  ALL of its team ranges, then the rows) against a naive ModelViewSet with
  page-number pagination and no select_related, defined below: first page
  and a filtered page, medians, and the query count at three page sizes
  (50 is the default); for the team key also the same view with the scope
  as the plain OR query (before ``ReportQuerySet.by_ranges``);
* POST /api/v1/telemetry/ with batches of 1,000 events (a mix of heartbeats,
  state changes, signal readings and charges over one team's fleet) against
  the same events sent one per request.

It prints the figures and ratios; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    bench_setup,
    median_seconds,
    plain_or_scope,
    seed_fleet_sql,
    seed_reports_sql,
    telemetry_events,
)

bench_setup("bench_api")

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import clear_url_caches, include, path  # noqa: E402
from rest_framework import pagination, viewsets  # noqa: E402

from accounts.models import ApiKey, Role, Team, User  # noqa: E402
from accounts.services import api_key_create  # noqa: E402
from chargepoints.models import ChargePoint  # noqa: E402
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
settings.API_RATE_LIMITS = {kind: 100_000_000 for kind in settings.API_RATE_LIMITS}


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
    # A quarter of each team's reports are open and 1 in 7 is "broken"
    # (bench/common.py seed_reports_sql): the filtered page is full.
    query = "state=open&reason=broken"
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
        for size in (10, 50, 100):
            ours, our_queries = timed_get(who, f"/api/v1/reports/{prefix}page_size={size}", runs)
            plain = None
            if who is client:
                with plain_or_scope():
                    plain, _ = timed_get(who, f"/api/v1/reports/{prefix}page_size={size}", runs)
            naive, naive_queries = timed_get(who, f"/naive/reports/{prefix}page_size={size}", runs)
            rows.append((label, size, ours, our_queries, plain, naive, naive_queries))
    return rows


def _events(ocpp_ids: list[str], count: int, tag: str) -> list[dict]:
    """A batch of ``count`` events (bench/common.py's mix), ids ``<tag>-<i>``."""
    return telemetry_events(ocpp_ids, count, lambda i: f"{tag}-{i}")


def bench_ingest(runs: int, single_requests: int) -> tuple[float, float]:
    """Events per second: batches of 1,000 vs one event per request."""
    team = Team.objects.get(name="Bench team 2")
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {key_for(team)}")
    ocpp_ids = list(ChargePoint.objects.filter(owner=team).values_list("ocpp_id", flat=True))
    tag = f"bench-{time.time_ns()}"
    batches = iter(range(runs + 1))

    def post_batch():
        events = _events(ocpp_ids, 1000, f"{tag}-b{next(batches)}")
        response = client.post("/api/v1/telemetry/", {"events": events}, content_type="application/json")
        assert response.status_code == 200 and response.json()["accepted"] == 1000, response.content[:500]

    batch_seconds = median_seconds(post_batch, runs=runs, warmup=1)

    singles = _events(ocpp_ids, single_requests + 10, f"{tag}-s")
    for event in singles[:10]:  # warm-up
        client.post("/api/v1/telemetry/", {"events": [event]}, content_type="application/json")
    start = time.perf_counter()
    for event in singles[10:]:
        response = client.post("/api/v1/telemetry/", {"events": [event]}, content_type="application/json")
        assert response.status_code == 200 and response.json()["accepted"] == 1
    single_rate = single_requests / (time.perf_counter() - start)
    return 1000 / batch_seconds, single_rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--charge-points", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--single-requests", type=int, default=500)
    parser.add_argument("--only", choices=["list", "ingest"], help="Run one half of the benchmark.")
    args = parser.parse_args()

    seed_fleet_sql(args.charge_points)
    seed_reports_sql(args.reports)

    if args.only != "ingest":
        print(f"\nGET /api/v1/reports/ (median of {args.runs}, Django test client, PostgreSQL)")
        print("| case | size | ours ms | q | plain OR scope ms | plain / ours | naive ms | q | naive / ours |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for label, size, ours, oq, plain, naive, nq in bench_report_list(args.runs):
            plain_cells = f"{plain * 1000:.1f} | {plain / ours:.1f}x" if plain is not None else "— | —"
            print(f"| {label} | {size} | {ours * 1000:.1f} | {oq} | {plain_cells} | {naive * 1000:.1f} | {nq} | "
                  f"{naive / ours:.1f}x |")
    if args.only == "list":
        return

    batch_rate, single_rate = bench_ingest(args.runs, args.single_requests)
    print(f"\nPOST /api/v1/telemetry/ (median batch of {args.runs}; {args.single_requests} single-event requests)")
    print(f"batches of 1,000 events: {batch_rate:,.0f} events/s")
    print(f"one event per request:   {single_rate:,.0f} events/s")
    print(f"ratio: {batch_rate / single_rate:.1f}x")


if __name__ == "__main__":
    main()
