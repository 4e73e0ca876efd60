"""Benchmark: the performance figures on a fleet with days of state history.

    .venv/bin/python bench/performance.py --charge-points 1000000 --days 90

Seeds N charge points (two connectors each, ten teams) with D days of
history at a stated density (by charge point id): most are quiet (a first
status per connector, then nothing); one in BUSY_MODULO has a charge every
day on connector 1, 08:00-09:00 (one attempt in FAILED_MODULO delivers
nothing); one in FAULTY_MODULO has connector 2 faulted 12:00-14:00 every
FAULT_EVERY days. The daily rollups of the days with events are seeded in
SQL as the refresh writes them (a quiet day has no row: nothing marks it
dirty). Prints each seed step's rows and time and the tables' sizes.

A sample of the fleet (``--sample-share``, the first charge points by id:
the same mix) is recomputed from the history with ``rollup_days`` on
``--sample-days`` days, checked equal to the seeded rollups, and timed: the
cost of a full recompute, extrapolated to the fleet and D + 1 days. Then,
median of several runs, each beside a baseline measured in the same run:

- the charge point tab (``pages.charge_point_page``, 90 days: the figures,
  the chart and the outage ledger) of a busy and of a faulty charge point,
  against the raw SQL that reads the same charge point's rollups;
- the team dashboard (``pages.dashboard_page``, 30 days: the 20 worst by
  uptime and by success rate) for the biggest team and for the whole fleet
  (support's view), against raw SQL picking the 20 with the most outage and
  the 20 with the most failures;
- the totals over a team or a site (``performance.totals``): the team
  API (``GET /api/v1/teams/{id}/performance/``, 30 days, as a member of
  the biggest team), the site page (``pages.site_page``, 30 days, its
  site of 100,000 charge points) and the monthly e-mail's build
  (``monthly.monthly_email_render``, last month, one team), against the
  raw SQL sums of the same rollups (the lower bound of an aggregate over
  daily rollups) and, once, the previous approach (``figures_for`` per
  charge point summed in Python) over the same team;
- yesterday's telemetry (the busy charge points' charges, the faulty ones'
  faults) through ``telemetry_record_batch`` in 500-event batches, with the
  dirty-day hook and without;
- the nightly ``rollups_refresh`` of the days that telemetry marked,
  against the full recompute.

Without DATABASE_URL the database is bench_performance_<N>, created if
missing; ``--reuse`` keeps a previous run's seed.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from common import bench_setup, median_seconds, seed_fleet_sql
from perf_totals import _raw_worst, bench_totals

# The fleet's density (by charge point id): most charge points are quiet
# (no event in the period); one in BUSY_MODULO has a charge every day on
# connector 1 (one attempt in FAILED_MODULO delivers nothing); one in
# FAULTY_MODULO has connector 2 faulted 12:00-14:00 every FAULT_EVERY days.
BUSY_MODULO = 20
FAILED_MODULO = 33
FAULTY_MODULO, FAULTY_REMAINDER, FAULT_EVERY = 50, 3, 3
BATCH = 500
TRUNCATE = ("TRUNCATE chargepoints_statechange, chargepoints_charge, chargepoints_connector, "
            "chargepoints_heartbeat, performance_portday, performance_chargepointday, "
            "performance_dirtyday, reporting_reportevent, reporting_report CASCADE")
PARAMS = {"bm": BUSY_MODULO, "xm": FAILED_MODULO, "fm": FAULTY_MODULO, "fr": FAULTY_REMAINDER, "fe": FAULT_EVERY}
BUSY = "cp.id %% %(bm)s = 0"
FAULT_DAY = "cp.id %% %(fm)s = %(fr)s AND (cp.id + d) %% %(fe)s = 0"
SEED_TABLES = ("chargepoints_chargepoint", "chargepoints_connector", "chargepoints_statechange",
               "chargepoints_charge", "performance_chargepointday", "performance_portday")


def seed(days: int, start: datetime) -> None:
    """History and rollups for every bench charge point over ``days`` days
    from ``start`` (midnight UTC); prints each step's time."""
    from django.db import connection

    params = {"start": start, "days": days, **PARAMS}
    steps = [
        ("charge points", "UPDATE chargepoints_chargepoint SET created_at = %(start)s - interval '1 day', "
                          "state = 'available', state_since = %(start)s"),
        ("connectors", """
            INSERT INTO chargepoints_connector (charge_point_id, number, state, ocpp_status, state_since,
                reported_at, error_code, vendor_error_code)
            SELECT id, n, 'available', 'Available', %(start)s - interval '1 day', %(start)s - interval '1 day', '', ''
            FROM chargepoints_chargepoint, generate_series(1, 2) n"""),
        ("each connector's first status", """
            INSERT INTO chargepoints_statechange (charge_point_id, event_id, received_at, state, ocpp_status,
                error_code, vendor_error_code, occurred_at, connector)
            SELECT id, 'init-' || n, %(start)s, 'available', 'Available', '', '', %(start)s - interval '1 day', n
            FROM chargepoints_chargepoint, generate_series(1, 2) n"""),
        ("the busy charge points' statuses", f"""
            INSERT INTO chargepoints_statechange (charge_point_id, event_id, received_at, state, ocpp_status,
                error_code, vendor_error_code, occurred_at, connector)
            SELECT cp.id, 'c' || d || '-' || e.k, %(start)s, e.state, e.status, '', '',
                   %(start)s + d * interval '1 day' + e.at, 1
            FROM chargepoints_chargepoint cp, generate_series(0, %(days)s - 1) d,
                 (VALUES (0, 'busy', 'Charging', interval '8 hours'),
                         (1, 'available', 'Available', interval '9 hours')) e(k, state, status, at)
            WHERE {BUSY}"""),
        ("the busy charge points' charges", f"""
            INSERT INTO chargepoints_charge (charge_point_id, event_id, received_at, started_at, ended_at,
                energy_wh, stop_reason, transaction_id, connector, outcome, failure_reason)
            SELECT cp.id, 'ch' || d, %(start)s, %(start)s + d * interval '1 day' + interval '8 hours',
                   %(start)s + d * interval '1 day' + interval '9 hours',
                   CASE WHEN (cp.id / %(bm)s + d) %% %(xm)s = 0 THEN 0 ELSE 10000 END, 'Local', '', 1,
                   CASE WHEN (cp.id / %(bm)s + d) %% %(xm)s = 0 THEN 'failed' ELSE 'completed' END,
                   CASE WHEN (cp.id / %(bm)s + d) %% %(xm)s = 0 THEN 'No energy was delivered.' ELSE '' END
            FROM chargepoints_chargepoint cp, generate_series(0, %(days)s - 1) d
            WHERE {BUSY}"""),
        ("the faulty charge points' faults", f"""
            INSERT INTO chargepoints_statechange (charge_point_id, event_id, received_at, state, ocpp_status,
                error_code, vendor_error_code, occurred_at, connector)
            SELECT cp.id, 'f' || d || '-' || e.k, %(start)s, e.state, e.status, e.code, '',
                   %(start)s + d * interval '1 day' + e.at, 2
            FROM chargepoints_chargepoint cp, generate_series(0, %(days)s - 1) d,
                 (VALUES (0, 'error', 'Faulted', 'GroundFailure', interval '12 hours'),
                         (1, 'available', 'Available', '', interval '14 hours')) e(k, state, status, code, at)
            WHERE {FAULT_DAY}"""),
        # The rollups of the days with events, as rollup_days writes them
        # (a quiet charge point day has none: nothing marks it dirty).
        ("charge point days", f"""
            INSERT INTO performance_chargepointday (charge_point_id, day, outage_seconds, excluded_seconds,
                attempts, successes, failed, failures, port_charges, covered_until, complete, end_state,
                ports_down_at_end, owner_team_id, operator_team_id)
            SELECT cp.id, (%(start)s + d * interval '1 day')::date, 0, 0, b.n,
                   CASE WHEN b.n = 1 AND (cp.id / %(bm)s + d) %% %(xm)s <> 0 THEN 1 ELSE 0 END,
                   CASE WHEN b.n = 1 AND (cp.id / %(bm)s + d) %% %(xm)s = 0 THEN 1 ELSE 0 END,
                   CASE WHEN b.n = 1 AND (cp.id / %(bm)s + d) %% %(xm)s = 0 THEN '{{"no_energy": 1}}'::jsonb
                        ELSE '{{}}'::jsonb END,
                   CASE WHEN b.n = 0 THEN '{{}}'::jsonb
                        WHEN (cp.id / %(bm)s + d) %% %(xm)s = 0 THEN '{{"1": [1, 0]}}'::jsonb
                        ELSE '{{"1": [1, 1]}}'::jsonb END,
                   %(start)s + (d + 1) * interval '1 day', true, '{{"1": "", "2": ""}}'::jsonb, 0,
                   cp.owner_id, cp.operator_id
            FROM chargepoints_chargepoint cp, generate_series(0, %(days)s - 1) d,
                 LATERAL (SELECT CASE WHEN {BUSY} THEN 1 ELSE 0 END AS n) b
            WHERE {BUSY} OR ({FAULT_DAY})"""),
        ("port days", f"""
            INSERT INTO performance_portday (charge_point_id, connector, day, outage_seconds, excluded_seconds, causes,
                owner_team_id, operator_team_id)
            SELECT cp.id, 2, (%(start)s + d * interval '1 day')::date, 7200, 0, '{{"error:GroundFailure": 7200}}'::jsonb,
                   cp.owner_id, cp.operator_id
            FROM chargepoints_chargepoint cp, generate_series(0, %(days)s - 1) d
            WHERE {FAULT_DAY}"""),
    ]
    with connection.cursor() as cur:
        cur.execute(TRUNCATE)
        for label, sql in steps:
            began = time.perf_counter()
            cur.execute(sql, params)
            print(f"  {label}: {cur.rowcount} rows in {time.perf_counter() - began:.0f} s", flush=True)
        began = time.perf_counter()
        for table in SEED_TABLES:
            cur.execute(f"VACUUM ANALYZE {table}")
        print(f"  vacuum analyze: {time.perf_counter() - began:.0f} s", flush=True)


def table_sizes() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) "
                    "FROM pg_stat_user_tables WHERE relname = ANY(%s) ORDER BY relname", [list(SEED_TABLES)])
        rows = cur.fetchall()
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        total = cur.fetchone()[0]
    return "; ".join(f"{name} {count:,} rows ({size})" for name, count, size in rows) + f"; database {total}"


def rollup_rows(cp_ids, days) -> list:
    from performance.models import ChargePointDay, PortDay

    cp_days = list(ChargePointDay.objects.filter(charge_point_id__in=cp_ids, day__in=days)
                   .order_by("charge_point_id", "day")
                   .values_list("charge_point_id", "day", "outage_seconds", "attempts", "successes", "failed",
                                "failures", "port_charges", "complete", "end_state"))
    port_days = list(PortDay.objects.filter(charge_point_id__in=cp_ids, day__in=days)
                     .order_by("charge_point_id", "day", "connector")
                     .values_list("charge_point_id", "day", "connector", "outage_seconds", "excluded_seconds",
                                  "causes"))
    return cp_days + port_days


def full_recompute(days: list, now: datetime, share: float) -> float:
    """Recompute these days of the first ``share`` of the fleet (by id: the
    same mix of busy, faulty and quiet charge points) from the history, as
    the refresh does (``rollup_days`` over chunks of charge points); check
    the result equals the seeded rollups (a quiet day gets a row of zeros,
    removed again: the refresh never writes one); return the seconds per day
    of the whole fleet (extrapolated from the share)."""
    from django.db import transaction

    from chargepoints.models import ChargePoint
    from performance.models import ChargePointDay
    from performance.rollups import CLAIM_CHUNK, rollup_days

    total = ChargePoint.objects.count()
    ids = list(ChargePoint.objects.order_by("pk").values_list("pk", flat=True)[:max(1, round(total * share))])
    before = rollup_rows(ids, days)
    seeded = {(row[0], row[1]) for row in before if len(row) == 10}
    elapsed = 0.0
    for day in days:
        for i in range(0, len(ids), CLAIM_CHUNK):
            chunk = ChargePoint.objects.in_bulk(ids[i:i + CLAIM_CHUNK])
            began = time.perf_counter()
            with transaction.atomic():
                rollup_days(charge_points=list(chunk.values()), day=day, now=now)
            elapsed += time.perf_counter() - began
    extra = ChargePointDay.objects.filter(charge_point_id__in=ids, day__in=days).exclude(
        pk__in=[pk for pk, cp_id, day in ChargePointDay.objects.filter(charge_point_id__in=ids, day__in=days)
                .values_list("pk", "charge_point_id", "day") if (cp_id, day) in seeded])
    extra.filter(attempts=0, outage_seconds=0, ports_down_at_end=0).delete()
    if rollup_rows(ids, days) != before:
        raise SystemExit("The seeded rollups differ from a recompute from the history: fix the seed.")
    return elapsed / len(days) * total / len(ids)


def yesterdays_events(day: datetime, d: int) -> list[dict]:
    """Yesterday as the gateway would send it: a charge on every busy charge
    point, a fault on the faulty ones whose day it is (``d``: the day's
    number since the seed's start)."""
    from chargepoints.models import ChargePoint

    events = []
    for pk, ocpp_id in ChargePoint.objects.order_by("pk").values_list("pk", "ocpp_id"):
        if pk % BUSY_MODULO == 0:
            for k, (status, hours) in enumerate((("Charging", 8), ("Available", 9))):
                events.append({"event_id": f"y{day:%j}-{k}", "type": "state_change", "ocpp_id": ocpp_id,
                               "connector": 1, "status": status,
                               "occurred_at": (day + timedelta(hours=hours)).isoformat()})
            events.append({"event_id": f"y{day:%j}", "type": "charge", "ocpp_id": ocpp_id,
                           "started_at": (day + timedelta(hours=8)).isoformat(),
                           "ended_at": (day + timedelta(hours=9)).isoformat(), "energy_wh": 9000,
                           "stop_reason": "Local", "connector": 1})
        if pk % FAULTY_MODULO == FAULTY_REMAINDER and (pk + d) % FAULT_EVERY == 0:
            for k, (status, hours, code) in enumerate((("Faulted", 12, "GroundFailure"), ("Available", 14, ""))):
                events.append({"event_id": f"yf{day:%j}-{k}", "type": "state_change", "ocpp_id": ocpp_id,
                               "connector": 2, "status": status, "error_code": code,
                               "occurred_at": (day + timedelta(hours=hours)).isoformat()})
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charge-points", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (median)")
    parser.add_argument("--nightly-runs", type=int, default=3, help="timed runs of the telemetry and the nightly")
    parser.add_argument("--sample-days", type=int, default=2,
                        help="days recomputed from the history to time a full recompute")
    parser.add_argument("--sample-share", type=float, default=0.1,
                        help="share of the fleet recomputed on those days (extrapolated to the whole fleet)")
    parser.add_argument("--pages-only", action="store_true",
                        help="with --reuse: only the charge point tab and the dashboard")
    parser.add_argument("--totals-only", action="store_true",
                        help="with --reuse: only the team and site totals (team API, site page, monthly e-mail)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the data a previous run seeded (same N and D, seeded today or yesterday)")
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
    from performance.models import ChargePointDay, DirtyDay, PortDay
    from performance.pages import charge_point_page, dashboard_page
    from performance.periods import period_last_days
    from performance.rollups import rollups_mark_days, rollups_refresh, telemetry_mark_dirty

    now = timezone.now()
    today = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    start = today - timedelta(days=days + 1)  # days of history, then yesterday for the nightly run
    yesterday = today - timedelta(days=1)

    def forget_yesterday() -> None:
        with connection.cursor() as cur:
            for table, column in (("chargepoints_statechange", "occurred_at"), ("chargepoints_charge", "started_at")):
                cur.execute(f"DELETE FROM {table} WHERE {column} >= %s", [yesterday])
            cur.execute("UPDATE chargepoints_connector SET reported_at = %s, state_since = %s WHERE reported_at >= %s",
                        [start - timedelta(days=1), start - timedelta(days=1), yesterday])
        ChargePointDay.objects.filter(day__gte=yesterday.date()).delete()
        PortDay.objects.filter(day__gte=yesterday.date()).delete()
        DirtyDay.objects.all().delete()

    print(f"{n} charge points, {days} days of history from {start:%Y-%m-%d}", flush=True)
    if args.reuse:
        forget_yesterday()
    else:
        with connection.cursor() as cur:  # what refers to charge points, before the fleet seed replaces them
            cur.execute(TRUNCATE)
        began = time.perf_counter()
        seed_fleet_sql(n, teams=10)  # teams of N/10: the dashboard reads a big team
        print(f"fleet seeded in {time.perf_counter() - began:.0f} s; seeding the history ...", flush=True)
        began = time.perf_counter()
        seed(days, start)
        print(f"history and rollups seeded in {time.perf_counter() - began:.0f} s", flush=True)
    print(table_sizes(), flush=True)
    load = lambda: "load average " + " ".join(open("/proc/loadavg").read().split()[:3])  # noqa: E731
    print(load(), flush=True)

    if args.totals_only:
        bench_totals(args.runs, now, load)
        return
    if args.pages_only:
        per_day = None
    else:
        step = max(days // args.sample_days, 1)
        sampled = [(start + timedelta(days=d)).date() for d in range(step // 2, days, step)][:args.sample_days]
        per_day = full_recompute(sampled, now, args.sample_share)
        print(f"full recompute from the history: {per_day:.1f} s per day of the fleet ({len(sampled)} days of "
              f"{args.sample_share:.0%} of the fleet recomputed, equal to the seeded rollups); {load()}", flush=True)

    # The charge point tab, 90 days: a busy charge point and a faulty one.
    first = ChargePoint.objects.order_by("pk").values_list("pk", flat=True).first()
    busy = ChargePoint.objects.filter(pk__gte=first, pk__lt=first + 200).order_by("pk")
    period90 = period_last_days(90, today=now.date())
    for label, cp in (("busy", next(c for c in busy if c.pk % BUSY_MODULO == 0)),
                      ("faulty", next(c for c in busy if c.pk % FAULTY_MODULO == FAULTY_REMAINDER))):
        tab = median_seconds(lambda cp=cp: charge_point_page(charge_point=cp, period=period90), runs=args.runs)
        raw_tab = median_seconds(lambda cp=cp: _raw_rollups(cp.pk, period90), runs=args.runs)
        print(f"charge point tab (90 days, a {label} charge point): {tab * 1000:.1f} ms; raw rollup read "
              f"{raw_tab * 1000:.2f} ms; ratio {tab / raw_tab:.1f}x; {load()}", flush=True)

    # The team dashboard, 30 days: the biggest team, and the whole fleet (support's view).
    team = (Team.objects.filter(name__startswith="Bench team").annotate(n=Count("owned_charge_points"))
            .order_by("-n", "pk").first())
    period30 = period_last_days(30, today=now.date())
    for label, charge_points, team_id in (
        (f"team of {team.n}", ChargePoint.objects.filter(owner=team) | ChargePoint.objects.filter(operator=team),
         team.pk),
        (f"whole fleet, {n}", ChargePoint.objects.all(), None),
    ):
        # The team's as the admin reads it for a member (by the rollups' team columns).
        board = median_seconds(lambda cps=charge_points, t=team_id: dashboard_page(charge_points=cps,
                                                                                   period=period30, team_id=t),
                               runs=args.runs)
        raw_board = median_seconds(lambda t=team_id: _raw_worst(t, period30), runs=args.runs)
        line = (f"dashboard (30 days, {label} charge points): {board * 1000:.1f} ms; "
                f"raw top-20 SQL (join) {raw_board * 1000:.2f} ms; ratio {board / raw_board:.1f}x")
        if team_id is not None:
            raw_columns = median_seconds(lambda t=team_id: _raw_worst(t, period30, columns=True), runs=args.runs)
            line += f"; raw top-20 SQL (team columns) {raw_columns * 1000:.2f} ms; ratio {board / raw_columns:.1f}x"
        print(f"{line}; {load()}", flush=True)

    bench_totals(args.runs, now, load)
    if per_day is None:
        return
    # Yesterday's telemetry in gateway-sized batches: with the dirty-day hook and without.
    events = yesterdays_events(yesterday, days)
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

    runs = args.nightly_runs
    without = median_seconds(lambda: record(False), runs=runs, warmup=0, before=forget_yesterday)
    with_hook = median_seconds(lambda: record(True), runs=runs, warmup=0, before=forget_yesterday)
    print(f"yesterday's {len(events)} events in {len(batches)} batches: {with_hook:.1f} s with the dirty-day hook, "
          f"{without:.1f} s without ({with_hook / without:.2f}x); {load()}", flush=True)

    dirty = DirtyDay.objects.count()
    pairs = list(DirtyDay.objects.values_list("charge_point_id", "day"))
    nightly = median_seconds(lambda: rollups_refresh(now=now), runs=runs, warmup=0,
                             before=lambda: rollups_mark_days(pairs))
    full = per_day * (days + 1)
    print(f"nightly rollup ({dirty} dirty charge point days): {nightly:.1f} s; a full recompute of "
          f"{n} x {days + 1} days: {full:.0f} s (extrapolated); ratio {nightly / full:.5f} "
          f"({full / nightly:.0f}x less work); {load()}")


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


if __name__ == "__main__":
    main()
