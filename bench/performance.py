"""Benchmark: the performance figures on a fleet with days of state history.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_performance \\
        .venv/bin/python bench/performance.py --charge-points 1000000 --days 90

Seeds N charge points (two connectors each) with D days of history: every
day a charge on connector 1 (busy 08:00-09:00, one attempt in 33 delivers
nothing), and on one charge point day in 50 connector 2 faulted from 12:00
to 14:00. The daily rollups of those days are seeded in SQL as the refresh
would write them; a sample of days of the whole fleet is recomputed from the
history with ``rollup_days`` to check that (and to time a full recompute). Then it
times, median of several runs, each beside a baseline measured in the same
run:

- the charge point tab (``pages.charge_point_page``, 90 days: the figures,
  the chart and the outage ledger) against the raw SQL that reads the same
  charge point's rollups;
- the team dashboard (``pages.dashboard_page``, 30 days: the 20 worst by
  uptime and by success rate) for the biggest team and for the whole fleet
  (support's view), against raw SQL picking the 20 with the most outage and
  the 20 with the most failures;
- the nightly rollup: yesterday's telemetry recorded in batches (which marks
  the days dirty), then ``rollups_refresh``, against a full recompute of
  every charge point day (the sampled days' cost per day of the fleet
  times D + 1);
- the telemetry batches with the dirty-day hook against the same batches
  without it.

Without DATABASE_URL the database is bench_performance_<N>, created if missing.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from common import bench_setup, median_seconds, seed_fleet_sql

FAULT_MODULO = 50
FAILED_MODULO = 33
BATCH = 500
TRUNCATE = ("TRUNCATE chargepoints_statechange, chargepoints_charge, chargepoints_connector, "
            "chargepoints_heartbeat, performance_portday, performance_chargepointday, "
            "performance_dirtyday, reporting_reportevent, reporting_report CASCADE")


def seed(days: int, start: datetime) -> None:
    """History and rollups for every bench charge point over ``days`` days
    from ``start`` (midnight UTC)."""
    from django.db import connection

    params = {"start": start, "days": days, "fm": FAULT_MODULO, "xm": FAILED_MODULO}
    with connection.cursor() as cur:
        cur.execute(TRUNCATE)
        cur.execute("UPDATE chargepoints_chargepoint SET created_at = %(start)s - interval '1 day', "
                    "state = 'available', state_since = %(start)s", params)
        cur.execute(
            """
            INSERT INTO chargepoints_connector (charge_point_id, number, state, ocpp_status, state_since,
                reported_at, error_code, vendor_error_code)
            SELECT id, n, 'available', 'Available', %(start)s - interval '1 day', %(start)s - interval '1 day', '', ''
            FROM chargepoints_chargepoint, generate_series(1, 2) n
            """, params)
        cur.execute(
            """
            INSERT INTO chargepoints_statechange (charge_point_id, event_id, received_at, state, ocpp_status,
                error_code, vendor_error_code, occurred_at, connector)
            SELECT id, 'init-' || n, %(start)s, 'available', 'Available', '', '', %(start)s - interval '1 day', n
            FROM chargepoints_chargepoint, generate_series(1, 2) n
            """, params)
        # A charge a day on connector 1.
        cur.execute(
            """
            INSERT INTO chargepoints_statechange (charge_point_id, event_id, received_at, state, ocpp_status,
                error_code, vendor_error_code, occurred_at, connector)
            SELECT cp.id, 'c' || d || '-' || e.k, %(start)s, e.state, e.status, '', '',
                   %(start)s + d * interval '1 day' + e.at, 1
            FROM chargepoints_chargepoint cp, generate_series(0, %(days)s - 1) d,
                 (VALUES (0, 'busy', 'Charging', interval '8 hours'),
                         (1, 'available', 'Available', interval '9 hours')) e(k, state, status, at)
            """, params)
        cur.execute(
            """
            INSERT INTO chargepoints_charge (charge_point_id, event_id, received_at, started_at, ended_at,
                energy_wh, stop_reason, transaction_id, outcome, failure_reason)
            SELECT cp.id, 'ch' || d, %(start)s, %(start)s + d * interval '1 day' + interval '8 hours',
                   %(start)s + d * interval '1 day' + interval '9 hours',
                   CASE WHEN (cp.id + d) %% %(xm)s = 0 THEN 0 ELSE 10000 END, 'Local', '',
                   CASE WHEN (cp.id + d) %% %(xm)s = 0 THEN 'failed' ELSE 'completed' END,
                   CASE WHEN (cp.id + d) %% %(xm)s = 0 THEN 'No energy was delivered.' ELSE '' END
            FROM chargepoints_chargepoint cp, generate_series(0, %(days)s - 1) d
            """, params)
        # A fault on connector 2 on one charge point day in FAULT_MODULO.
        cur.execute(
            """
            INSERT INTO chargepoints_statechange (charge_point_id, event_id, received_at, state, ocpp_status,
                error_code, vendor_error_code, occurred_at, connector)
            SELECT cp.id, 'f' || d || '-' || e.k, %(start)s, e.state, e.status, e.code, '',
                   %(start)s + d * interval '1 day' + e.at, 2
            FROM chargepoints_chargepoint cp, generate_series(0, %(days)s - 1) d,
                 (VALUES (0, 'error', 'Faulted', 'GroundFailure', interval '12 hours'),
                         (1, 'available', 'Available', '', interval '14 hours')) e(k, state, status, code, at)
            WHERE (cp.id * 7 + d) %% %(fm)s = 0
            """, params)
        # The rollups of those days, as rollup_day writes them.
        cur.execute(
            """
            INSERT INTO performance_chargepointday (charge_point_id, day, outage_seconds, excluded_seconds,
                attempts, successes, failed, failures, covered_until, complete, end_state, ports_down_at_end)
            SELECT cp.id, (%(start)s + d * interval '1 day')::date, 0, 0, 1,
                   CASE WHEN (cp.id + d) %% %(xm)s = 0 THEN 0 ELSE 1 END,
                   CASE WHEN (cp.id + d) %% %(xm)s = 0 THEN 1 ELSE 0 END,
                   CASE WHEN (cp.id + d) %% %(xm)s = 0 THEN '{"no_energy": 1}'::jsonb ELSE '{}'::jsonb END,
                   %(start)s + (d + 1) * interval '1 day', true, '{"1": "", "2": ""}'::jsonb, 0
            FROM chargepoints_chargepoint cp, generate_series(0, %(days)s - 1) d
            """, params)
        cur.execute(
            """
            INSERT INTO performance_portday (charge_point_id, connector, day, outage_seconds, excluded_seconds, causes)
            SELECT cp.id, 2, (%(start)s + d * interval '1 day')::date, 7200, 0, '{"error:GroundFailure": 7200}'::jsonb
            FROM chargepoints_chargepoint cp, generate_series(0, %(days)s - 1) d
            WHERE (cp.id * 7 + d) %% %(fm)s = 0
            """, params)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")


def rollup_rows(cp_ids, days) -> list:
    from performance.models import ChargePointDay, PortDay

    cp_days = list(ChargePointDay.objects.filter(charge_point_id__in=cp_ids, day__in=days)
                   .order_by("charge_point_id", "day")
                   .values_list("charge_point_id", "day", "outage_seconds", "attempts", "successes", "failed",
                                "failures", "complete", "end_state"))
    port_days = list(PortDay.objects.filter(charge_point_id__in=cp_ids, day__in=days)
                     .order_by("charge_point_id", "day", "connector")
                     .values_list("charge_point_id", "day", "connector", "outage_seconds", "excluded_seconds",
                                  "causes"))
    return cp_days + port_days


def full_recompute(days: list, now: datetime) -> float:
    """Recompute these days of every charge point from the history, as the
    refresh does (``rollup_days`` over chunks of charge points); check the
    result equals the seeded rollups; return the seconds per day of the
    whole fleet."""
    from django.db import transaction

    from chargepoints.models import ChargePoint
    from performance.rollups import CLAIM_CHUNK, rollup_days

    fleet = list(ChargePoint.objects.order_by("pk"))
    ids = [cp.pk for cp in fleet]
    before = rollup_rows(ids, days)
    began = time.perf_counter()
    for day in days:
        for i in range(0, len(fleet), CLAIM_CHUNK):
            with transaction.atomic():
                rollup_days(charge_points=fleet[i:i + CLAIM_CHUNK], day=day, now=now)
    elapsed = time.perf_counter() - began
    if rollup_rows(ids, days) != before:
        raise SystemExit("The seeded rollups differ from a recompute from the history: fix the seed.")
    return elapsed / len(days)


def yesterdays_events(day: datetime) -> list[dict]:
    """One charge per charge point, as the gateway would send them."""
    from chargepoints.models import ChargePoint

    events = []
    for ocpp_id in ChargePoint.objects.order_by("pk").values_list("ocpp_id", flat=True):
        for k, (status, hours) in enumerate((("Charging", 8), ("Available", 9))):
            events.append({"event_id": f"y{day:%j}-{k}", "type": "state_change", "ocpp_id": ocpp_id,
                           "connector": 1, "status": status,
                           "occurred_at": (day + timedelta(hours=hours)).isoformat()})
        events.append({"event_id": f"y{day:%j}", "type": "charge", "ocpp_id": ocpp_id,
                       "started_at": (day + timedelta(hours=8)).isoformat(),
                       "ended_at": (day + timedelta(hours=9)).isoformat(), "energy_wh": 9000,
                       "stop_reason": "Local"})
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charge-points", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (median)")
    parser.add_argument("--sample-days", type=int, default=5,
                        help="days of the whole fleet recomputed from the history (the full recompute's cost)")
    args = parser.parse_args()
    n, days = args.charge_points, args.days
    bench_setup(f"bench_performance_{n}")

    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from accounts.models import Team
    from chargepoints import hooks
    from chargepoints.models import ChargePoint
    from chargepoints.services import telemetry_record_batch
    from performance.models import DirtyDay
    from performance.pages import charge_point_page, dashboard_page
    from performance.periods import period_last_days
    from performance.rollups import rollups_mark_days, rollups_refresh, telemetry_mark_dirty

    with connection.cursor() as cur:  # what refers to charge points, before the fleet seed replaces them
        cur.execute(TRUNCATE)
    seed_fleet_sql(n, teams=10)  # teams of N/10: the dashboard reads a big team
    now = timezone.now()
    today = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    start = today - timedelta(days=days + 1)  # days of history, then yesterday for the nightly run
    yesterday = today - timedelta(days=1)
    print(f"{n} charge points, {days} days of history from {start:%Y-%m-%d}; seeding ...", flush=True)
    began = time.perf_counter()
    seed(days, start)
    print(f"seeded in {time.perf_counter() - began:.0f} s", flush=True)

    step = max(days // args.sample_days, 1)
    sampled = [(start + timedelta(days=d)).date() for d in range(0, days, step)][:args.sample_days]
    per_day = full_recompute(sampled, now)
    print(f"full recompute from the history: {per_day:.2f} s per day of the fleet "
          f"({len(sampled)} sampled days recomputed, equal to the seeded rollups)")
    sample = list(ChargePoint.objects.order_by("pk").values_list("pk", flat=True)[:20])

    # The charge point tab, 90 days, on a charge point with faults.
    cp = ChargePoint.objects.get(pk=next(pk for pk in sample if any((pk * 7 + d) % FAULT_MODULO == 0
                                                                    for d in range(days))))
    period90 = period_last_days(90, today=now.date())
    tab = median_seconds(lambda: charge_point_page(charge_point=cp, period=period90), runs=args.runs)
    raw_tab = median_seconds(lambda: _raw_rollups(cp.pk, period90), runs=args.runs)
    print(f"charge point tab (90 days): {tab * 1000:.1f} ms; raw rollup read {raw_tab * 1000:.2f} ms; "
          f"ratio {tab / raw_tab:.1f}x")

    # The team dashboard, 30 days: the biggest team, and the whole fleet (support's view).
    team = (Team.objects.filter(name__startswith="Bench team").annotate(n=Count("owned_charge_points"))
            .order_by("-n", "pk").first())
    period30 = period_last_days(30, today=now.date())
    for label, charge_points, team_id in (
        (f"team of {team.n}", ChargePoint.objects.filter(owner=team) | ChargePoint.objects.filter(operator=team),
         team.pk),
        (f"whole fleet, {n}", ChargePoint.objects.all(), None),
    ):
        board = median_seconds(lambda cps=charge_points: dashboard_page(charge_points=cps, period=period30),
                               runs=args.runs)
        raw_board = median_seconds(lambda t=team_id: _raw_worst(t, period30), runs=args.runs)
        print(f"dashboard (30 days, {label} charge points): {board * 1000:.1f} ms; "
              f"raw top-20 SQL {raw_board * 1000:.2f} ms; ratio {board / raw_board:.1f}x")

    # Yesterday's telemetry in gateway-sized batches: with the dirty-day hook and without.
    events = yesterdays_events(yesterday)
    batches = [events[i:i + BATCH] for i in range(0, len(events), BATCH)]

    def record(with_hook: bool) -> None:
        if not with_hook:
            hooks.telemetry_recorded.remove(telemetry_mark_dirty)
        try:
            for batch in batches:
                with transaction.atomic():
                    telemetry_record_batch(events=batch)
        finally:
            if not with_hook:
                hooks.telemetry_recorded.append(telemetry_mark_dirty)

    def forget_yesterday() -> None:
        with connection.cursor() as cur:
            for table, column in (("chargepoints_statechange", "occurred_at"), ("chargepoints_charge", "started_at")):
                cur.execute(f"DELETE FROM {table} WHERE {column} >= %s", [yesterday])
            cur.execute("UPDATE chargepoints_connector SET reported_at = %s, state_since = %s",
                        [yesterday - timedelta(days=1), yesterday - timedelta(days=1)])
        DirtyDay.objects.all().delete()

    runs = args.runs
    without = median_seconds(lambda: record(False), runs=runs, warmup=0, before=forget_yesterday)
    with_hook = median_seconds(lambda: record(True), runs=runs, warmup=0, before=forget_yesterday)
    print(f"yesterday's {len(events)} events in {len(batches)} batches: {with_hook:.2f} s with the dirty-day hook, "
          f"{without:.2f} s without ({with_hook / without:.2f}x)")

    dirty = DirtyDay.objects.count()
    pairs = list(DirtyDay.objects.values_list("charge_point_id", "day"))
    nightly = median_seconds(lambda: rollups_refresh(now=now), runs=runs, warmup=0,
                             before=lambda: rollups_mark_days(pairs))
    full = per_day * (days + 1)
    print(f"nightly rollup ({dirty} dirty charge point days): {nightly:.2f} s; a full recompute of "
          f"{n} x {days + 1} days: {full:.0f} s (extrapolated from the sampled days); ratio {nightly / full:.4f} "
          f"({full / nightly:.0f}x less work)")


def _raw_rollups(cp_id: int, period) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT connector, sum(outage_seconds), sum(excluded_seconds) FROM performance_portday "
                    "WHERE charge_point_id = %s AND day BETWEEN %s AND %s GROUP BY connector",
                    [cp_id, period.first, period.last])
        cur.fetchall()
        cur.execute("SELECT sum(attempts), sum(successes) FROM performance_chargepointday "
                    "WHERE charge_point_id = %s AND day BETWEEN %s AND %s", [cp_id, period.first, period.last])
        cur.fetchall()


def _raw_worst(team_id: int | None, period) -> None:
    from django.db import connection

    team = "" if team_id is None else f"AND (cp.owner_id = {int(team_id)} OR cp.operator_id = {int(team_id)}) "
    with connection.cursor() as cur:
        cur.execute(
            "SELECT d.charge_point_id, sum(d.outage_seconds - d.excluded_seconds) AS net FROM performance_portday d "
            "JOIN chargepoints_chargepoint cp ON cp.id = d.charge_point_id "
            f"WHERE d.day BETWEEN %s AND %s {team}"
            "GROUP BY d.charge_point_id ORDER BY net DESC LIMIT 20",
            [period.first, period.last])
        cur.fetchall()
        cur.execute(
            "SELECT d.charge_point_id, sum(d.failed) AS f FROM performance_chargepointday d "
            "JOIN chargepoints_chargepoint cp ON cp.id = d.charge_point_id "
            f"WHERE d.day BETWEEN %s AND %s AND d.failed > 0 {team}"
            "GROUP BY d.charge_point_id ORDER BY f DESC LIMIT 20",
            [period.first, period.last])
        cur.fetchall()


if __name__ == "__main__":
    main()
