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
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from chargepoints.models import ChargePoint, Connector

from .models import ChargePointDay, PortDay
from .periods import Period
from .rollups import day_start
from .selectors import Figures, PortFigures, nevi_uptime

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


def _rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _json_sums(table: str, column: str, ids: tuple[str, tuple], period: Period) -> Counter:
    """Key -> the sum of its values over the period's rows of the set."""
    source, key, value = _json_pairs(table, column)
    sql = (f"SELECT {key}, SUM({_json_number(value)}) FROM {source} "
           f"WHERE d.day >= %s AND d.day <= %s AND d.charge_point_id IN ({ids[0]}) GROUP BY {key}")
    return Counter({k: v for k, v in _rows(sql, (period.first, period.last, *ids[1])) if v})


def totals_for(*, charge_points: QuerySet[ChargePoint], period: Period, now: datetime | None = None,
               with_causes: bool = False) -> Figures:
    """The figures over every charge point of the queryset, summed in the
    database (``figures_sum(figures_for(...).values())`` in a few
    statements), ports summed per connector number."""
    now = now or timezone.now()
    end = min(period.end, now)
    ids = _ids(charge_points)
    start_s, end_s = period.start.timestamp(), end.timestamp()
    seconds = f"{_greatest()}(%s - {_greatest()}(%s, {_epoch('created_at')}), 0)"
    # Each charge point's ports (its connectors and any port with outage rows
    # in the period; none: port 0) and the seconds it counts in the period.
    rows = _rows(
        f"WITH c AS (SELECT id, {seconds} AS seconds FROM {CP} WHERE id IN ({ids[0]})) "
        f"SELECT COALESCE(p.number, 0), COUNT(*), SUM(c.seconds) FROM c LEFT JOIN ("
        f"SELECT charge_point_id, number FROM {CONNECTOR} WHERE number >= 1 AND charge_point_id IN (SELECT id FROM c) "
        f"UNION SELECT charge_point_id, connector FROM {PORT_DAY} WHERE day >= %s AND day <= %s "
        f"AND charge_point_id IN (SELECT id FROM c)) p ON p.charge_point_id = c.id GROUP BY COALESCE(p.number, 0) "
        f"UNION ALL SELECT -1, COUNT(*), 0 FROM c",
        (end_s, start_s, *ids[1], period.first, period.last))
    ports = {number: PortFigures(number, minutes=float(secs or 0) / 60) for number, _n, secs in rows if number >= 0}
    total = Figures(charge_points=sum(n for number, n, _s in rows if number < 0),
                    ports_counted=sum(n for number, n, _s in rows if number >= 0))
    if not total.charge_points:
        total.ports, total.ports_counted = [], 0
        return total
    days = PortDay.objects.filter(charge_point_id__in=charge_points.order_by().values("pk"),
                                  day__gte=period.first, day__lte=period.last)
    for number, outage, excluded in days.order_by().values("connector").annotate(
            o=Sum("outage_seconds"), e=Sum("excluded_seconds")).values_list("connector", "o", "e"):
        port = ports.setdefault(number, PortFigures(number))
        port.outage_seconds, port.excluded_seconds = float(outage or 0), float(excluded or 0)
    cp_days = ChargePointDay.objects.filter(charge_point_id__in=charge_points.order_by().values("pk"),
                                            day__gte=period.first, day__lte=period.last)
    sums = cp_days.aggregate(a=Sum("attempts"), s=Sum("successes"))
    total.attempts, total.successes = sums["a"] or 0, sums["s"] or 0
    _ongoing(total, ports, cp_days, end=end, period=period, with_causes=with_causes)
    if with_causes:
        causes = _json_sums(PORT_DAY, "causes", ids, period)
        causes.update(total.causes)
        total.causes = Counter({key: _number(value) for key, value in causes.items()})
        total.failures = Counter({key: int(value) for key, value in _json_sums(CP_DAY, "failures", ids, period)
                                  .items()})
        source, key, value = _json_pairs(CP_DAY, "port_charges")
        for number, attempts, successes in _rows(
                f"SELECT {key}, SUM({_json_number(value, 0)}), SUM({_json_number(value, 1)}) FROM {source} "
                f"WHERE d.day >= %s AND d.day <= %s AND d.charge_point_id IN ({ids[0]}) GROUP BY {key}",
                (period.first, period.last, *ids[1])):
            port = ports.setdefault(int(number), PortFigures(int(number)))
            port.attempts, port.successes = int(attempts or 0), int(successes or 0)
    total.ports = sorted(ports.values(), key=lambda p: p.connector)
    return total


def _number(value) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else value


def _ongoing(total: Figures, ports: dict[int, PortFigures], cp_days: QuerySet, *, end: datetime,
             period: Period, with_causes: bool) -> None:
    """The part after each rollup row was computed, for the ports down at that
    moment (rows of ongoing outages only: a partial index); a port only
    known from such a row counts its minutes too, as in ``figures_for``."""
    extra_ports: dict[int, set[int]] = defaultdict(set)
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
                extra_ports[cp_id].add(int(number))
                if with_causes:
                    total.causes[cause] += extra
    if not extra_ports:
        return
    known = set(Connector.objects.filter(charge_point_id__in=list(extra_ports), number__gte=1)
                .values_list("charge_point_id", "number"))
    known |= set(PortDay.objects.filter(charge_point_id__in=list(extra_ports), day__gte=period.first,
                                        day__lte=period.last).values_list("charge_point_id", "connector"))
    created = dict(ChargePoint.objects.filter(pk__in=list(extra_ports)).values_list("pk", "created_at"))
    for cp_id, numbers in extra_ports.items():
        mine = {number for cp, number in known if cp == cp_id}
        minutes = max((end - max(period.start, created[cp_id])).total_seconds(), 0) / 60
        for number in numbers - mine:
            ports[number].minutes += minutes
            total.ports_counted += 1
        if not mine and 0 in ports:
            ports[0].minutes -= minutes  # it had counted as one port 0
            total.ports_counted -= 1


def daily_uptime(*, charge_points: QuerySet[ChargePoint], period: Period, now: datetime | None = None
                 ) -> list[tuple[date, float | None]]:
    """The uptime of each day of the period over all the charge points'
    connectors (one for a charge point without any; None for a day before
    any of them existed or after now): the outage from the rollups, the
    minutes from the charge points grouped by when they started counting."""
    now = now or timezone.now()
    ids = _ids(charge_points)
    since = f"{_greatest()}(%s, {_epoch('c.created_at')})"
    count = "GREATEST(COUNT(n.id), 1)" if connection.vendor == "postgresql" else "MAX(COUNT(n.id), 1)"
    groups = sorted((float(at), int(n)) for at, n in _rows(
        f"SELECT since, SUM(ports) FROM (SELECT {since} AS since, {count} AS ports FROM {CP} c "
        f"LEFT JOIN {CONNECTOR} n ON n.charge_point_id = c.id AND n.number >= 1 WHERE c.id IN ({ids[0]}) "
        f"GROUP BY c.id, c.created_at) s GROUP BY since", (period.start.timestamp(), *ids[1])))
    starts = [at for at, _n in groups]
    ports_before = [0]
    weighted_before = [0.0]
    for at, n in groups:
        ports_before.append(ports_before[-1] + n)
        weighted_before.append(weighted_before[-1] + n * at)
    net: Counter = Counter()
    days = PortDay.objects.filter(charge_point_id__in=charge_points.order_by().values("pk"),
                                  day__gte=period.first, day__lte=period.last)
    for day, seconds in (days.order_by().values("day").annotate(n=Sum(F("outage_seconds") - F("excluded_seconds")))
                         .values_list("day", "n")):
        net[day] += seconds or 0
    for day, covered_until, end_state in ChargePointDay.objects.filter(
            charge_point_id__in=charge_points.order_by().values("pk"), day__gte=period.first,
            day__lte=period.last, ports_down_at_end__gt=0).values_list("day", "covered_until", "end_state"):
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
