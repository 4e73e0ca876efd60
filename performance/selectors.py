"""Reads of the performance figures, all from the daily rollups: uptime per
port with the NEVI formula (23 CFR 680.116(b))

    uptime % = 100 * (minutes - (outage minutes - excluded minutes)) / minutes

and the charging success rate (``chargepoints.charging`` defines an attempt
and a success), per charge point and summed over any set of charge points
(a site, a team, a vendor/model/firmware).

A period's minutes run from its start, or the charge point's creation when
that is later, to its end or now. Today's rollup covers the day up to when
it was computed: a port down then counts as down until now.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from chargepoints.models import ChargePoint, Connector

from .models import ChargePointDay, PortDay
from .periods import Period
from .rollups import day_start
from .teams import team_rows


def nevi_uptime(*, minutes: float, outage_minutes: float, excluded_minutes: float) -> float | None:
    """The NEVI uptime percentage; None for a period of no minutes."""
    if minutes <= 0:
        return None
    return 100 * (minutes - (outage_minutes - excluded_minutes)) / minutes


def success_rate(*, attempts: int, successes: int) -> float | None:
    """The share of attempts that were a success, in %; None without attempts."""
    return 100 * successes / attempts if attempts else None


@dataclass
class PortFigures:
    connector: int
    minutes: float = 0.0
    outage_seconds: float = 0.0
    excluded_seconds: float = 0.0
    # Of the charges that know their connector (read with the causes).
    attempts: int = 0
    successes: int = 0

    @property
    def success_rate(self) -> float | None:
        return success_rate(attempts=self.attempts, successes=self.successes)

    @property
    def outage_minutes(self) -> float:
        return self.outage_seconds / 60

    @property
    def excluded_minutes(self) -> float:
        return self.excluded_seconds / 60

    @property
    def uptime(self) -> float | None:
        return nevi_uptime(minutes=self.minutes, outage_minutes=self.outage_minutes,
                           excluded_minutes=self.excluded_minutes)


@dataclass
class Figures:
    """A charge point's figures, or the sum over several (its ports'
    minutes and outage summed: the uptime is over all their ports)."""

    ports: list[PortFigures] = field(default_factory=list)
    attempts: int = 0
    successes: int = 0
    failures: Counter = field(default_factory=Counter)  # failed attempts by cause
    causes: Counter = field(default_factory=Counter)  # outage seconds by cause
    charge_points: int = 0
    # The ports counted, when ``ports`` sums them per connector number (totals).
    ports_counted: int | None = None

    @property
    def port_count(self) -> int:
        return len(self.ports) if self.ports_counted is None else self.ports_counted

    @property
    def minutes(self) -> float:
        return sum(p.minutes for p in self.ports)

    @property
    def outage_minutes(self) -> float:
        return sum(p.outage_minutes for p in self.ports)

    @property
    def excluded_minutes(self) -> float:
        return sum(p.excluded_minutes for p in self.ports)

    @property
    def uptime(self) -> float | None:
        return nevi_uptime(minutes=self.minutes, outage_minutes=self.outage_minutes,
                           excluded_minutes=self.excluded_minutes)

    @property
    def success_rate(self) -> float | None:
        return success_rate(attempts=self.attempts, successes=self.successes)

    def add(self, other: Figures) -> None:
        self.ports.extend(other.ports)
        self.attempts += other.attempts
        self.successes += other.successes
        self.failures.update(other.failures)
        self.causes.update(other.causes)
        self.charge_points += other.charge_points


def figures_sum(figures) -> Figures:
    total = Figures()
    for one in figures:
        total.add(one)
    return total


def figures_for(*, charge_points: QuerySet[ChargePoint], period: Period, now: datetime | None = None,
                with_causes: bool = False) -> dict[int, Figures]:
    """Charge point id -> its figures over the period, for every charge
    point of the queryset: a handful of queries whatever their number
    (grouped sums over the rollups; the causes, JSON per row, only when
    asked, with each port's attempts and successes)."""
    now = now or timezone.now()
    end = min(period.end, now)
    ids = charge_points.order_by().values("pk")
    figures: dict[int, Figures] = {}
    starts: dict[int, datetime] = {}
    for cp_id, created_at in charge_points.order_by().values_list("pk", "created_at"):
        starts[cp_id] = max(period.start, created_at)
        figures[cp_id] = Figures(charge_points=1)
    if not figures:
        return figures
    ports: dict[int, dict[int, PortFigures]] = defaultdict(dict)
    for cp_id, number in Connector.objects.filter(charge_point_id__in=ids, number__gte=1).values_list(
            "charge_point_id", "number"):
        ports[cp_id][number] = PortFigures(number)
    days = PortDay.objects.filter(charge_point_id__in=ids, day__gte=period.first, day__lte=period.last)
    for cp_id, number, outage, excluded in days.order_by().values("charge_point_id", "connector").annotate(
            outage=Sum("outage_seconds"), excluded=Sum("excluded_seconds")).values_list(
            "charge_point_id", "connector", "outage", "excluded"):
        port = ports[cp_id].setdefault(number, PortFigures(number))
        port.outage_seconds, port.excluded_seconds = float(outage or 0), float(excluded or 0)
    cp_days = ChargePointDay.objects.filter(charge_point_id__in=ids, day__gte=period.first, day__lte=period.last)
    for cp_id, attempts, successes in cp_days.order_by().values("charge_point_id").annotate(
            a=Sum("attempts"), s=Sum("successes")).values_list("charge_point_id", "a", "s"):
        figures[cp_id].attempts, figures[cp_id].successes = attempts or 0, successes or 0
    # The part after each row was computed, for ports down at that moment.
    for cp_id, day, covered_until, end_state in cp_days.filter(
            Q(ports_down_at_end__gt=0), covered_until__lt=end).values_list(
            "charge_point_id", "day", "covered_until", "end_state"):
        until = min(day_start(day) + timedelta(days=1), end)
        extra = (until - covered_until).total_seconds()
        if extra <= 0:
            continue
        for number, cause in end_state.items():
            if cause:
                port = ports[cp_id].setdefault(int(number), PortFigures(int(number)))
                port.outage_seconds += extra
                if with_causes:
                    figures[cp_id].causes[cause] += extra
    if with_causes:
        for cp_id, causes in days.values_list("charge_point_id", "causes"):
            figures[cp_id].causes.update(causes)
        for cp_id, failures, port_charges in cp_days.values_list("charge_point_id", "failures", "port_charges"):
            figures[cp_id].failures.update(failures)
            for number, (attempts, successes) in port_charges.items():
                port = ports[cp_id].setdefault(int(number), PortFigures(int(number)))
                port.attempts += attempts
                port.successes += successes
    for cp_id, one in figures.items():
        minutes = max((end - starts[cp_id]).total_seconds(), 0) / 60
        one.ports = sorted(ports[cp_id].values(), key=lambda p: p.connector) or [PortFigures(0)]
        for port in one.ports:
            port.minutes = minutes
    return figures


# What the figures can be grouped by: a charger's make, model and firmware.
GROUPINGS: dict[str, tuple[str, ...]] = {
    "vendor": ("vendor",),
    "model": ("vendor", "model"),
    "firmware": ("vendor", "model", "firmware_version"),
}


def figures_by_group(*, charge_points: QuerySet[ChargePoint], period: Period, by: str,
                     now: datetime | None = None) -> list[tuple[tuple[str, ...], Figures]]:
    """The figures summed per vendor, vendor and model, or vendor, model and
    firmware (``by``: a key of ``GROUPINGS``), worst success rate first."""
    from core.errors import Invalid

    if by not in GROUPINGS:
        raise Invalid(f"Group by one of: {', '.join(GROUPINGS)}.", field="by")
    fields = GROUPINGS[by]
    per_cp = figures_for(charge_points=charge_points, period=period, now=now, with_causes=True)
    groups: dict[tuple[str, ...], Figures] = defaultdict(Figures)
    for cp_id, *key in charge_points.order_by().values_list("pk", *fields):
        groups[tuple(key)].add(per_cp[cp_id])
    return sorted(groups.items(), key=lambda item: (
        item[1].success_rate if item[1].success_rate is not None else 101, item[0]))


# --- The dashboards: worst first, read from the trouble only ---------------------------

WORST = 20
# Candidates ranked exactly: the charge points with the most net outage (or
# failures) in the period, this many times the places shown.
CANDIDATES_FACTOR = 5


def _of(rows: QuerySet, charge_points: QuerySet[ChargePoint], team_id: int | None = None) -> QuerySet:
    """The rollup rows of these charge points. A team's (``team_id``: the
    charge points are exactly those it owns or operates) are read by the
    rows' team columns, not a join with its charge points. Every charge
    point (support's whole fleet) needs no filter: a semi-join with the
    whole charge point table would hash a million ids to keep every row."""
    if team_id is not None:
        return rows.filter(team_rows(team_id))
    if not charge_points.query.where and not charge_points.query.is_sliced:
        return rows
    return rows.filter(charge_point_id__in=charge_points.order_by().values("pk"))


def _top(rows: QuerySet, charge_points: QuerySet[ChargePoint], team_id: int | None, total, limit: int,
         positive: bool = False) -> list[int]:
    """The ids of the ``limit`` charge points with the highest ``total`` (an
    aggregate) over the rows (``positive``: above 0). A team's are the top
    of its owned rows and the top of the rows it operates for another owner,
    merged: each an index-only range (``performance.teams``), where one
    scan of both would read the table; exact, as a charge point's rows all
    carry its current teams and so fall in one of the two."""
    def top(of: QuerySet) -> list[tuple[int, float]]:
        grouped = of.order_by().values("charge_point_id").annotate(total=total)
        if positive:
            grouped = grouped.filter(total__gt=0)
        return list(grouped.order_by("-total", "charge_point_id").values_list("charge_point_id", "total")[:limit])

    if team_id is None:
        return [cp_id for cp_id, _total in top(_of(rows, charge_points))]
    pairs = top(rows.filter(owner_team_id=team_id)) + top(
        rows.filter(operator_team_id=team_id).exclude(operator_team=F("owner_team")))
    return [cp_id for cp_id, _total in sorted(pairs, key=lambda pair: (-pair[1], pair[0]))[:limit]]


def _ranked(figures: dict[int, Figures], key, limit: int) -> list[tuple[int, Figures]]:
    return sorted(figures.items(), key=key)[:limit]


def worst_by_uptime(*, charge_points: QuerySet[ChargePoint], period: Period, now: datetime | None = None,
                    limit: int = WORST, team_id: int | None = None) -> list[tuple[int, Figures]]:
    """The charge points with the lowest uptime in the period (below 100 %):
    the candidates are those with the most outage time not excluded (the
    outage rows of the period, a range on their day index) and those down
    now; their exact figures decide the order. ``team_id``: the charge points
    are the team's, read by the rollups' team columns (``_of``)."""
    now = now or timezone.now()
    net = _top(PortDay.objects.filter(day__gte=period.first, day__lte=period.last), charge_points, team_id,
               Sum(F("outage_seconds") - F("excluded_seconds")), limit * CANDIDATES_FACTOR, positive=True)
    down = (_of(ChargePointDay.objects.filter(day__gte=period.first, day__lte=period.last, ports_down_at_end__gt=0,
                                              covered_until__lt=min(period.end, now)), charge_points, team_id)
            .order_by().values_list("charge_point_id", flat=True).distinct()[:limit * CANDIDATES_FACTOR])
    candidates = set(net) | set(down)
    if not candidates:
        return []
    figures = figures_for(charge_points=ChargePoint.objects.filter(pk__in=candidates), period=period, now=now)
    figures = {cp_id: f for cp_id, f in figures.items() if f.uptime is not None and f.uptime < 100}
    return _ranked(figures, lambda item: (item[1].uptime, item[0]), limit)


def worst_by_success_rate(*, charge_points: QuerySet[ChargePoint], period: Period, now: datetime | None = None,
                          limit: int = WORST, team_id: int | None = None) -> list[tuple[int, Figures]]:
    """The charge points with the lowest charging success rate in the period:
    the candidates are those with the most failed attempts (the days with
    failures, a partial index); ties go to the one with more failures."""
    candidates = _top(ChargePointDay.objects.filter(day__gte=period.first, day__lte=period.last, failed__gt=0),
                      charge_points, team_id, Sum("failed"), limit * CANDIDATES_FACTOR)
    if not candidates:
        return []
    figures = figures_for(charge_points=ChargePoint.objects.filter(pk__in=candidates), period=period, now=now)
    return _ranked(figures, lambda item: (item[1].success_rate, -(item[1].attempts - item[1].successes), item[0]),
                   limit)
