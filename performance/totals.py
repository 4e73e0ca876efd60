"""The figures over a whole set of charge points (a site, a team, the
fleet) as sums in the database: the team API, the site page and the
monthly e-mail read these, never a figure per charge point summed in
Python (4.4 s for a team of 100,000 that way; ``bench/performance.py``).

``totals_for`` gives exactly what summing ``selectors.figures_for`` over
every charge point gives (the same NEVI minutes, outage and exclusions,
attempts and successes, causes), with the ports summed per connector
number (port 1 of every charge point, port 2, ...: a list as long as the
fleet's highest connector number, not one entry per port). A charge point
without a connector counts as one port 0, as in ``figures_for``.

``daily_uptime`` is the 90-day chart's series over the same set, its
minutes from the charge points grouped by when they started counting.

Few statements whatever the number of charge points; the JSON columns
(causes by key, charges per port) are summed in SQL with the database's
own JSON functions (PostgreSQL's ``jsonb_each``, SQLite's ``json_each``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from chargepoints.models import ChargePoint, Connector

from .models import ChargePointDay, PortDay
from .periods import Period
from .rollups import day_start
from .selectors import Figures, PortFigures, nevi_uptime
from .teams import team_rows, team_rows_sql

CP, CONNECTOR = ChargePoint._meta.db_table, Connector._meta.db_table
PORT_DAY, CP_DAY = PortDay._meta.db_table, ChargePointDay._meta.db_table


def _epoch(column: str) -> str:
    """SQL for a timestamp column's seconds since 1970 (a float)."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})::float8"
    return f"((julianday({column}) - 2440587.5) * 86400.0)"


def _greatest() -> str:
    return "GREATEST" if connection.vendor == "postgresql" else "MAX"


def _json_pairs(table: str, column: str) -> tuple[str, str, str]:
    """FROM-clause, key and value SQL for the pairs of a JSON object column."""
    if connection.vendor == "postgresql":
        return f"{table} d CROSS JOIN LATERAL jsonb_each(d.{column}) j", "j.key", "j.value"
    return f"{table} d, json_each(d.{column}) j", "j.key", "j.value"


def _json_number(value: str, index: int | None = None) -> str:
    if connection.vendor == "postgresql":
        return f"({value}->>{index})::float8" if index is not None else f"({value}#>>'{{}}')::float8"
    return f"CAST(json_extract({value}, '$[{index}]') AS REAL)" if index is not None else f"CAST({value} AS REAL)"


def _ids(charge_points: QuerySet[ChargePoint]) -> tuple[str, tuple]:
    """The id subquery's SQL and parameters (one that matches nothing for
    an empty queryset)."""
    try:
        sql, params = charge_points.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return f"SELECT id FROM {CP} WHERE 1 = 0", ()
    return sql, tuple(params)


def _of(ids: tuple[str, tuple], team_id: int | None) -> tuple[str, tuple]:
    """SQL picking the set's rollup rows (aliased ``d``), with its
    parameters: a team's by the rows' team columns (an index range), any
    other set by charge point."""
    if team_id is not None:
        return team_rows_sql(team_id)
    return f"d.charge_point_id IN ({ids[0]})", ids[1]


def _of_q(charge_points: QuerySet[ChargePoint], team_id: int | None) -> Q:
    return team_rows(team_id) if team_id is not None else Q(charge_point_id__in=charge_points.order_by().values("pk"))


def _rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _json_sums(table: str, column: str, of: tuple[str, tuple], period: Period, where: str = "1 = 1") -> Counter:
    """Key -> the sum of its values over the period's rows of the set."""
    source, key, value = _json_pairs(table, column)
    sql = (f"SELECT {key}, SUM({_json_number(value)}) FROM {source} "
           f"WHERE d.day >= %s AND d.day <= %s AND {where} AND {of[0]} GROUP BY {key}")
    return Counter({k: v for k, v in _rows(sql, (period.first, period.last, *of[1])) if v})


@contextmanager
def _short_statements():
    """PostgreSQL: no JIT compilation for these aggregates (it cost 0.9 s on
    a team of 100,000 to save milliseconds: the planner's estimate of a
    join's rows, not its work, crosses ``jit_above_cost``)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def totals_for(*, charge_points: QuerySet[ChargePoint], period: Period, now: datetime | None = None,
               with_causes: bool = False, team_id: int | None = None) -> Figures:
    """The figures over every charge point of the queryset, summed in the
    database (``figures_sum(figures_for(...).values())`` in a few
    statements), ports summed per connector number. ``team_id``: the charge
    points are exactly those the team owns or operates, and the rollups are
    read by their team columns (``performance.teams``)."""
    now = now or timezone.now()
    end = min(period.end, now)
    with _short_statements():
        return _totals(charge_points, period, end, with_causes, team_id)


def _totals(charge_points: QuerySet[ChargePoint], period: Period, end: datetime, with_causes: bool,
            team_id: int | None) -> Figures:
    ids = _ids(charge_points)
    seconds = f"{_greatest()}(%s - {_greatest()}(%s, {_epoch('c.created_at')}), 0)"
    # Each charge point's connectors (none: one port 0) and the seconds it
    # counts in the period; how many charge points.
    rows = _rows(
        f"SELECT COALESCE(n.number, 0), COUNT(*), SUM({seconds}) FROM {CP} c LEFT JOIN {CONNECTOR} n "
        f"ON n.charge_point_id = c.id AND n.number >= 1 WHERE c.id IN ({ids[0]}) GROUP BY COALESCE(n.number, 0)",
        (end.timestamp(), period.start.timestamp(), *ids[1]))
    total = Figures(charge_points=charge_points.count(), ports_counted=sum(n for _number, n, _s in rows))
    if not total.charge_points:
        total.ports_counted = 0
        return total
    ports = {number: PortFigures(number, minutes=float(secs or 0) / 60) for number, _n, secs in rows}
    extra = set()
    for kind, key, a, b in _rollup_sums(_of(ids, team_id), period, with_causes):
        if kind == "o":
            port = ports.setdefault(int(key), PortFigures(int(key)))
            port.outage_seconds, port.excluded_seconds = float(a or 0), float(b or 0)
        elif kind == "x":
            extra.add(tuple(int(part) for part in key.split(":")))
        elif kind == "t":
            total.attempts, total.successes = int(a or 0), int(b or 0)
        elif kind == "c" and a:
            total.causes[key] += a
        elif kind == "f" and a:
            total.failures[key] += int(a)
        elif kind == "p":
            port = ports.setdefault(int(key), PortFigures(int(key)))
            port.attempts, port.successes = int(a or 0), int(b or 0)
    cp_days = ChargePointDay.objects.filter(_of_q(charge_points, team_id), day__gte=period.first,
                                            day__lte=period.last)
    extra |= _ongoing(total, ports, cp_days, end=end, with_causes=with_causes)
    _extra_ports(total, ports, extra, end=end, period=period)
    total.causes = Counter({key: _number(value) for key, value in total.causes.items()})
    total.ports = sorted(ports.values(), key=lambda p: p.connector)
    return total


_NOT_A_CONNECTOR = (f"NOT EXISTS (SELECT 1 FROM {CONNECTOR} n WHERE n.charge_point_id = d.charge_point_id "
                    f"AND n.number = d.connector AND n.number >= 1)")


def _rollup_sums(of: tuple[str, tuple], period: Period, with_causes: bool) -> list[tuple]:
    """The period's rollup rows of the set summed, as (kind, key, a, b):
    "o" a port number's outage and excluded seconds, "x" a charge point's
    port with outage rows that is none of its connectors ("cp:port"), "t"
    the attempts and successes; with the causes, "c" outage seconds and
    "f" failed attempts by cause, "p" a port number's attempts and
    successes. PostgreSQL: one pass over each rollup table (the JSON
    columns expanded beside the plain sums); otherwise a statement each."""
    in_period = (period.first, period.last, *of[1])
    where = f"d.day >= %s AND d.day <= %s AND {of[0]}"
    if connection.vendor == "postgresql":
        port_parts = ["SELECT 'o', d.connector::text, d.outage_seconds::float8, d.excluded_seconds::float8",
                      f"SELECT 'x', d.charge_point_id || ':' || d.connector, 0, 0 WHERE {_NOT_A_CONNECTOR}"]
        cp_parts = ["SELECT 't', '', d.attempts::float8, d.successes::float8"]
        if with_causes:
            port_parts.append("SELECT 'c', e.key, (e.value#>>'{}')::float8, 0 FROM jsonb_each(d.causes) e")
            cp_parts += ["SELECT 'f', e.key, (e.value#>>'{}')::float8, 0 FROM jsonb_each(d.failures) e",
                         "SELECT 'p', e.key, (e.value->>0)::float8, (e.value->>1)::float8 "
                         "FROM jsonb_each(d.port_charges) e"]
        rows = []
        if not with_causes:  # the plain sums alone: no row expanded
            rows += _rows(f"SELECT 't', '', SUM(d.attempts), SUM(d.successes) FROM {CP_DAY} d WHERE {where}",
                          in_period)
        for table, parts in ((PORT_DAY, port_parts), (CP_DAY, cp_parts))[:2 if with_causes else 1]:
            rows += _rows(f"SELECT j.kind, j.key, SUM(j.a), SUM(j.b) FROM {table} d CROSS JOIN LATERAL ("
                          + " UNION ALL ".join(parts) + f") j(kind, key, a, b) WHERE {where} GROUP BY j.kind, j.key",
                          in_period)
        return rows
    rows = [("o", number, a, b) for number, a, b in _rows(
        f"SELECT d.connector, SUM(d.outage_seconds), SUM(d.excluded_seconds) FROM {PORT_DAY} d WHERE {where} "
        "GROUP BY d.connector", in_period)]
    rows += [("x", f"{cp}:{number}", 0, 0) for cp, number in _rows(
        f"SELECT DISTINCT d.charge_point_id, d.connector FROM {PORT_DAY} d WHERE {where} AND {_NOT_A_CONNECTOR}",
        in_period)]
    rows += [("t", "", a, b) for a, b in _rows(
        f"SELECT SUM(d.attempts), SUM(d.successes) FROM {CP_DAY} d WHERE {where}", in_period)]
    if with_causes:
        rows += [("c", key, value, 0) for key, value in _json_sums(PORT_DAY, "causes", of, period).items()]
        # Only days with a failed attempt have failures.
        rows += [("f", key, value, 0) for key, value in _json_sums(
            CP_DAY, "failures", of, period, where="d.failed > 0").items()]
        source, key, value = _json_pairs(CP_DAY, "port_charges")
        rows += [("p", number, a, b) for number, a, b in _rows(
            f"SELECT {key}, SUM({_json_number(value, 0)}), SUM({_json_number(value, 1)}) FROM {source} "
            f"WHERE {where} GROUP BY {key}", in_period)]
    return rows


def _number(value) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else value


def _ongoing(total: Figures, ports: dict[int, PortFigures], cp_days: QuerySet, *, end: datetime,
             with_causes: bool) -> set[tuple[int, int]]:
    """The part after each rollup row was computed, for the ports down at that
    moment (rows of ongoing outages only: a partial index); returns the
    (charge point, port) pairs down then."""
    down = set()
    for cp_id, day, covered_until, end_state in cp_days.filter(
            ports_down_at_end__gt=0, covered_until__lt=end).values_list(
            "charge_point_id", "day", "covered_until", "end_state"):
        extra = (min(day_start(day) + timedelta(days=1), end) - covered_until).total_seconds()
        if extra <= 0:
            continue
        for number, cause in end_state.items():
            if cause:
                port = ports.setdefault(int(number), PortFigures(int(number)))
                port.outage_seconds += extra
                down.add((cp_id, int(number)))
                if with_causes:
                    total.causes[cause] += extra
    return down


def _extra_ports(total: Figures, ports: dict[int, PortFigures], pairs: set[tuple[int, int]], *, end: datetime,
                 period: Period) -> None:
    """Count the minutes of the ports known only from the rollups (not a
    connector of the charge point), as ``figures_for`` does: a charge point
    without connectors had counted as one port 0 instead. Few rows (an
    anomaly of the history), read for those charge points only."""
    if not pairs:
        return
    cp_ids = list({cp_id for cp_id, _n in pairs})
    connectors = set(Connector.objects.filter(charge_point_id__in=cp_ids, number__gte=1)
                     .values_list("charge_point_id", "number"))
    with_rows = set(PortDay.objects.filter(charge_point_id__in=cp_ids, day__gte=period.first,
                                           day__lte=period.last).values_list("charge_point_id", "connector"))
    created = dict(ChargePoint.objects.filter(pk__in=cp_ids).values_list("pk", "created_at"))
    for cp_id in cp_ids:
        mine = {number for cp, number in connectors if cp == cp_id}
        counted = mine | {number for cp, number in with_rows if cp == cp_id} | {
            number for cp, number in pairs if cp == cp_id}
        minutes = max((end - max(period.start, created[cp_id])).total_seconds(), 0) / 60
        for number in counted - mine:
            ports.setdefault(number, PortFigures(number)).minutes += minutes
            total.ports_counted += 1
        if not mine:
            ports[0].minutes -= minutes  # it had counted as one port 0
            total.ports_counted -= 1


def daily_uptime(*, charge_points: QuerySet[ChargePoint], period: Period, now: datetime | None = None,
                 team_id: int | None = None) -> list[tuple[date, float | None]]:
    """The uptime of each day of the period over all the charge points'
    connectors (one for a charge point without any; None for a day before
    any of them existed or after now): the outage from the rollups, the
    minutes from the charge points grouped by when they started counting."""
    now = now or timezone.now()
    with _short_statements():
        return _daily(charge_points, period, now, team_id)


def _daily(charge_points: QuerySet[ChargePoint], period: Period, now: datetime, team_id: int | None
           ) -> list[tuple[date, float | None]]:
    ids = _ids(charge_points)
    since = f"{_greatest()}(%s, {_epoch('c.created_at')})"
    # A row per connector, or one for a charge point without any: its ports.
    groups = sorted((float(at), int(n)) for at, n in _rows(
        f"SELECT {since}, COUNT(*) FROM {CP} c LEFT JOIN {CONNECTOR} n ON n.charge_point_id = c.id "
        f"AND n.number >= 1 WHERE c.id IN ({ids[0]}) GROUP BY {since}",
        (period.start.timestamp(), *ids[1], period.start.timestamp())))
    starts = [at for at, _n in groups]
    ports_before = [0]
    weighted_before = [0.0]
    for at, n in groups:
        ports_before.append(ports_before[-1] + n)
        weighted_before.append(weighted_before[-1] + n * at)
    net: Counter = Counter()
    days = PortDay.objects.filter(_of_q(charge_points, team_id), day__gte=period.first, day__lte=period.last)
    for day, seconds in (days.order_by().values("day").annotate(n=Sum(F("outage_seconds") - F("excluded_seconds")))
                         .values_list("day", "n")):
        net[day] += seconds or 0
    for day, covered_until, end_state in ChargePointDay.objects.filter(
            _of_q(charge_points, team_id), day__gte=period.first, day__lte=period.last, ports_down_at_end__gt=0).values_list("day", "covered_until", "end_state"):
        extra = (min(day_start(day) + timedelta(days=1), now) - covered_until).total_seconds()
        if extra > 0:
            net[day] += extra * sum(1 for cause in end_state.values() if cause)
    series = []
    for day in period.days():
        start, end = day_start(day).timestamp(), min(day_start(day) + timedelta(days=1), now).timestamp()
        # Ports counting since the day's start count it all; those that began
        # during it, from then; those that began after it, nothing.
        if end <= start:
            series.append((day, None))
            continue
        whole = bisect_right(starts, start)
        began = bisect_right(starts, end)
        seconds = ports_before[whole] * (end - start)
        seconds += (ports_before[began] - ports_before[whole]) * end - (weighted_before[began] - weighted_before[whole])
        series.append((day, nevi_uptime(minutes=seconds / 60, outage_minutes=net[day] / 60, excluded_minutes=0)))
    return series
