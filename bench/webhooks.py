"""Benchmark: what webhooks add to filing reports, on PostgreSQL.

    .venv/bin/python bench/webhooks.py [--reports 1000] [--runs 7]

The deliveries of a report change are written in its own transaction
(reporting.hooks -> webhooks.services.deliveries.deliveries_for_events). This measures
the health sweep's bulk filing (``report_file_system_bulk``) of N reports
over 100 teams, each run rolled back:

* baseline: the webhooks listener taken out of the hook (as before webhooks);
* no endpoints: the listener in, no team has an endpoint (two queries);
* every team has an endpoint for report.filed: N deliveries written.

It prints a Markdown table with the medians and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_setup, median_seconds, seed_fleet_sql  # noqa: E402

bench_setup("bench_webhooks")

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Team  # noqa: E402
from chargepoints.models import ChargePoint  # noqa: E402
from reporting.catalogue import Reason  # noqa: E402
from reporting.hooks import timeline_listeners  # noqa: E402
from reporting.services import report_file_system_bulk  # noqa: E402
from webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: E402
from webhooks.services.deliveries import deliveries_for_events  # noqa: E402


def file_and_roll_back(offenders) -> int:
    with transaction.atomic():
        created = report_file_system_bulk(reason=Reason.DISCONNECTED, offenders=offenders, now=timezone.now())
        written = WebhookDelivery.objects.count()
        transaction.set_rollback(True)
    assert len(created) == len(offenders)
    return written


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    seed_fleet_sql(max(args.reports, 1000), teams=100)
    offenders = [
        {"pk": pk, "owner_id": owner, "operator_id": operator, "description": "Offline (bench)"}
        for pk, owner, operator in ChargePoint.objects.filter(ocpp_id__startswith="BENCH-")
        .order_by("pk").values_list("pk", "owner_id", "operator_id")[: args.reports]
    ]
    WebhookEndpoint.objects.filter(url__startswith="https://bench.example.com/").delete()
    rows = []

    timeline_listeners.remove(deliveries_for_events)
    baseline = median_seconds(lambda: file_and_roll_back(offenders), runs=args.runs)
    timeline_listeners.append(deliveries_for_events)
    rows.append(("baseline: no webhooks listener", baseline, 0, None))

    with CaptureQueriesContext(connection) as queries:
        written = file_and_roll_back(offenders)
    rows.append(("listener, no endpoints", median_seconds(lambda: file_and_roll_back(offenders), runs=args.runs),
                 written, len(queries)))

    teams = Team.objects.filter(name__startswith="Bench team")
    WebhookEndpoint.objects.bulk_create([
        WebhookEndpoint(team=team, url=f"https://bench.example.com/{team.pk}", events=["report.filed"],
                        secret="whsec_YmVuY2hiZW5jaGJlbmNoYmVuY2hiZW5jaGJlbmNo")
        for team in teams
    ])
    try:
        with CaptureQueriesContext(connection) as queries:
            written = file_and_roll_back(offenders)
        rows.append(("an endpoint per team", median_seconds(lambda: file_and_roll_back(offenders), runs=args.runs),
                     written, len(queries)))
    finally:
        WebhookEndpoint.objects.filter(url__startswith="https://bench.example.com/").delete()

    print(f"\nFiling {len(offenders)} system reports in one sweep, median of {args.runs} runs\n")
    print("| case | median | ratio to baseline | deliveries written | queries |")
    print("|---|---:|---:|---:|---:|")
    for name, seconds, written, count in rows:
        print(f"| {name} | {seconds * 1000:.1f} ms | {seconds / baseline:.2f} | {written} | {count if count is not None else '—'} |")


if __name__ == "__main__":
    main()
