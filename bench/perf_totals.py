"""The team and site totals of ``bench/performance.py`` (run it, not this):
the team API, the site page and the monthly e-mail's build at the seed's
scale, each beside the raw SQL sums of the same rollups, and the previous
per-charge-point approach once; with the raw top-20 SQL of the dashboard
both use."""

from __future__ import annotations

import time
from datetime import datetime

from common import median_seconds


def bench_totals(runs: int, now: datetime, load) -> None:
    """The team API, the site page and the monthly e-mail's build for the
    biggest team (its site holds all its charge points), each beside the raw
    SQL sums of the same rollups; the previous per-charge-point approach
    once over the team."""
    from django.db.models import Count
    from django.test import Client

    from accounts.models import Membership, Role, Team, User
    from chargepoints.models import ChargePoint, Site
    from performance.monthly import monthly_email_render, previous_month
    from performance.pages import site_page
    from performance.periods import period_last_days
    from performance.selectors import figures_for, figures_sum

    team = (Team.objects.filter(name__startswith="Bench team").annotate(n=Count("owned_charge_points"))
            .order_by("-n", "pk").first())
    member, _ = User.objects.get_or_create(email="bench-performance-member@example.com")
    Membership.objects.get_or_create(user=member, team=team, defaults={"role": Role.VIEWER})
    client = Client(HTTP_HOST="localhost")
    client.force_login(member)
    site = Site.objects.filter(team=team).order_by("pk").first()
    period30 = period_last_days(30, today=now.date())
    month = previous_month(now.date())
    team_cps = ChargePoint.objects.filter(owner=team) | ChargePoint.objects.filter(operator=team)
    site_cps = ChargePoint.objects.filter(site=site)
    print(f"team {team.pk}: {team.n} charge points; site {site.pk}: {site_cps.count()} charge points", flush=True)

    def api() -> None:
        response = client.get(f"/api/v1/teams/{team.pk}/performance/?period=30d")
        assert response.status_code == 200, response.status_code

    team_where = "owner_id = %(t)s OR operator_id = %(t)s"
    # Each: the measured call, the raw SQL over the rollup rows joined with
    # the charge points and (a team's) picked by their team columns.
    cases = [
        ("team API (30 days)", api,
         lambda: (_raw_totals(team_where, team.pk, period30, causes=True), _raw_worst(team.pk, period30)),
         lambda: (_raw_totals(team_where, team.pk, period30, causes=True, columns=True),
                  _raw_worst(team.pk, period30, columns=True))),
        ("site page (30 days, chart 90 days)",
         lambda: site_page(site=site, charge_points=site_cps, period=period30, now=now),
         lambda: (_raw_totals("site_id = %(t)s", site.pk, period30, causes=True),
                  _raw_daily("site_id = %(t)s", site.pk, period_last_days(90, today=now.date()))), None),
        (f"monthly e-mail build ({month.label})",
         lambda: monthly_email_render(team=team, period=month, now=now),
         lambda: (_raw_totals(team_where, team.pk, month, causes=False), _raw_worst(team.pk, month)),
         lambda: (_raw_totals(team_where, team.pk, month, causes=False, columns=True),
                  _raw_worst(team.pk, month, columns=True))),
    ]
    for label, fn, raw, raw_columns in cases:
        figure = median_seconds(fn, runs=runs)
        baseline = median_seconds(raw, runs=runs)
        line = (f"{label}: {figure * 1000:.0f} ms; raw SQL sums (join) {baseline * 1000:.0f} ms; ratio "
                f"{figure / baseline:.2f}x")
        if raw_columns is not None:
            by_columns = median_seconds(raw_columns, runs=runs)
            line += f"; raw SQL sums (team columns) {by_columns * 1000:.0f} ms; ratio {figure / by_columns:.2f}x"
        print(f"{line}; {load()}", flush=True)
    began = time.perf_counter()
    figures_sum(figures_for(charge_points=team_cps, period=period30, now=now, with_causes=True).values())
    previous = time.perf_counter() - began
    print(f"previous approach (figures_for per charge point, summed in Python, with the causes) over the team, "
          f"once: {previous:.1f} s; {load()}", flush=True)


# A team's rollup rows by their team columns (performance.teams.team_rows_sql).
OTHER_ROWS = ("(d.operator_team_id = %(t)s AND NOT (d.operator_team_id = d.owner_team_id "
              "AND d.operator_team_id IS NOT NULL AND d.owner_team_id IS NOT NULL))")
TEAM_ROWS = f"(d.owner_team_id = %(t)s OR {OTHER_ROWS})"


def _raw_totals(where: str, key: int, period, *, causes: bool, columns: bool = False) -> None:
    """The raw SQL sums a team's or site's totals need: the ports and their
    seconds, the outage, the attempts and (``causes``) the causes, failures
    and per-port charges, each one statement over the same rollups; the
    rollup rows picked by charge point (a join) or, ``columns``, by their
    team columns."""
    from django.db import connection

    cps = f"SELECT id FROM chargepoints_chargepoint WHERE {where}"
    params = {"t": key, "first": period.first, "last": period.last, "start": period.start.timestamp()}
    days = "d.day BETWEEN %(first)s AND %(last)s"
    of = TEAM_ROWS if columns else f"d.charge_point_id IN ({cps})"
    statements = [
        "SELECT n.number, count(*), sum(extract(epoch FROM now()) - greatest(%(start)s, "
        "extract(epoch FROM c.created_at))) FROM chargepoints_chargepoint c LEFT JOIN chargepoints_connector n "
        f"ON n.charge_point_id = c.id AND n.number >= 1 WHERE c.{where.replace(' OR ', ' OR c.')} GROUP BY 1",
        f"SELECT d.connector, sum(d.outage_seconds), sum(d.excluded_seconds) FROM performance_portday d "
        f"WHERE {days} AND {of} GROUP BY 1",
        f"SELECT sum(d.attempts), sum(d.successes) FROM performance_chargepointday d "
        f"WHERE {days} AND {of}",
    ]
    if causes:
        statements += [
            f"SELECT j.key, sum(j.value::text::float8) FROM performance_portday d, jsonb_each(d.causes) j "
            f"WHERE {days} AND {of} GROUP BY 1",
            f"SELECT j.key, sum(j.value::text::float8) FROM performance_chargepointday d, jsonb_each(d.failures) j "
            f"WHERE {days} AND d.failed > 0 AND {of} GROUP BY 1",
            f"SELECT j.key, sum((j.value->>0)::int), sum((j.value->>1)::int) FROM performance_chargepointday d, "
            f"jsonb_each(d.port_charges) j WHERE {days} AND {of} GROUP BY 1",
        ]
    with connection.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SET LOCAL jit = off")
        for sql in statements:
            cur.execute(sql, params)
            cur.fetchall()
        cur.execute("COMMIT")


def _raw_daily(where: str, key: int, period) -> None:
    """The raw SQL of the 90-day chart: the ports by start and the outage by day."""
    from django.db import connection

    params = {"t": key, "first": period.first, "last": period.last, "start": period.start.timestamp()}
    with connection.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SET LOCAL jit = off")
        cur.execute("SELECT greatest(%(start)s, extract(epoch FROM c.created_at)), count(*) "
                    "FROM chargepoints_chargepoint c LEFT JOIN chargepoints_connector n "
                    f"ON n.charge_point_id = c.id AND n.number >= 1 WHERE c.{where} GROUP BY 1", params)
        cur.fetchall()
        cur.execute("SELECT d.day, sum(d.outage_seconds - d.excluded_seconds) FROM performance_portday d "
                    "WHERE d.day BETWEEN %(first)s AND %(last)s AND d.charge_point_id IN "
                    f"(SELECT id FROM chargepoints_chargepoint WHERE {where}) GROUP BY 1", params)
        cur.fetchall()
        cur.execute("COMMIT")


def _raw_worst(team_id: int | None, period, columns: bool = False) -> None:
    """The raw top-20 by net outage and by failures: over the fleet, over a
    team's charge points (a join, as the page filtered them), or
    (``columns``) over its rows by their team columns, the owned rows and
    those operated for another owner each a statement (two index ranges)."""
    from django.db import connection

    if team_id is None:
        filters = [""]
    elif columns:
        filters = [f"AND d.owner_team_id = {int(team_id)} ", f"AND {OTHER_ROWS.replace('%(t)s', str(int(team_id)))} "]
    else:
        filters = ["AND d.charge_point_id IN (SELECT id FROM chargepoints_chargepoint "
                   f"WHERE owner_id = {int(team_id)} OR operator_id = {int(team_id)}) "]
    with connection.cursor() as cur:
        for team in filters:
            cur.execute(
                "SELECT d.charge_point_id, sum(d.outage_seconds - d.excluded_seconds) AS net "
                f"FROM performance_portday d WHERE d.day BETWEEN %s AND %s {team}"
                "GROUP BY d.charge_point_id ORDER BY net DESC LIMIT 20",
                [period.first, period.last])
            cur.fetchall()
            cur.execute(
                "SELECT d.charge_point_id, sum(d.failed) AS f FROM performance_chargepointday d "
                f"WHERE d.day BETWEEN %s AND %s AND d.failed > 0 {team}"
                "GROUP BY d.charge_point_id ORDER BY f DESC LIMIT 20",
                [period.first, period.last])
            cur.fetchall()
