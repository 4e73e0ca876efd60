"""Response-time targets: how soon a report must be assigned and resolved
(docs/response-targets.md). This module reads (due times, time left, the
dashboard's counts); ``reporting/response_target_services.py`` writes
(saving targets, the periodic breach check).

A report's targets are those of its source: the operator team's own
``ResponseTarget`` row, each empty time falling back to support's default
row (no team). Both times run from when the report was filed. A report is
*breached* on a target when it is past due and not yet assigned (time to
assign: still ``open``) or not yet resolved (time to resolve), and *at
risk* when less than ``RESPONSE_TARGETS_AT_RISK_SHARE`` of the target is
left.

The check (``response_target_services.response_targets_check``, every minute) finds the breaches in
one query per kind and records each in ``ResponseBreach`` (unique per report
and kind) with ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: only the
transaction whose row went in writes the timeline row ("Response-time
target missed", which the notifications outbox e-mails to the team's
contacts) and escalates, so two checks at once do it once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from .catalogue import Source
from .models import Report, ReportState
from .settings_models import BreachKind, ResponseTarget, TargetEscalation

# --- selectors -------------------------------------------------------------------


def _target(field: str):
    """The report's target ``field``: its operator team's, else the default."""
    own = ResponseTarget.objects.filter(
        team_id=OuterRef("operator_team_id"), source=OuterRef("source")
    ).order_by().values(field)[:1]
    default = ResponseTarget.objects.filter(team__isnull=True, source=OuterRef("source")).order_by().values(field)[:1]
    return Coalesce(Subquery(own, output_field=DurationField()), Subquery(default, output_field=DurationField()))


def with_due_times(reports):
    """Annotate a report queryset with ``assign_target`` / ``resolve_target``
    (durations) and ``assign_due`` / ``resolve_due`` (datetimes), empty
    where there is no target. Subqueries on the small targets table."""
    return reports.annotate(
        assign_target=_target("time_to_assign"),
        resolve_target=_target("time_to_resolve"),
    ).annotate(
        assign_due=ExpressionWrapper(F("created_at") + F("assign_target"), output_field=DateTimeField()),
        resolve_due=ExpressionWrapper(F("created_at") + F("resolve_target"), output_field=DateTimeField()),
    )


def _pending(kind: str) -> Q:
    """The reports a target still applies to."""
    if kind == BreachKind.ASSIGN:
        return Q(state=ReportState.OPEN)
    return ~Q(state=ReportState.RESOLVED)


@dataclass(frozen=True)
class TimeLeft:
    kind: str
    due_at: datetime
    target: timedelta
    left: timedelta

    @property
    def breached(self) -> bool:
        return self.left <= timedelta(0)

    @property
    def at_risk(self) -> bool:
        return not self.breached and self.left < self.target * settings.RESPONSE_TARGETS_AT_RISK_SHARE

    def label(self) -> str:
        """For the back-office, in the active language."""
        what = gettext("assign") if self.kind == BreachKind.ASSIGN else gettext("resolve")
        if self.breached:
            return gettext("%(what)s: overdue by %(duration)s") % {"what": what,
                                                                    "duration": format_duration(-self.left)}
        if self.at_risk:
            return gettext("%(what)s: %(duration)s left (at risk)") % {"what": what,
                                                                        "duration": format_duration(self.left)}
        return gettext("%(what)s: %(duration)s left") % {"what": what, "duration": format_duration(self.left)}


def format_duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{int(value.total_seconds())} s"


def report_time_left(report: Report, *, now: datetime | None = None) -> TimeLeft | None:
    """The target that applies now (assign while open, then resolve) and the
    time left on it; None when no target applies. Reads the annotations of
    ``with_due_times`` when the report has them, else one query."""
    now = now or timezone.now()
    if not hasattr(report, "assign_due"):
        row = with_due_times(Report.objects.filter(pk=report.pk)).values(
            "assign_target", "resolve_target", "assign_due", "resolve_due"
        ).first() or {}
        for key, value in row.items():
            setattr(report, key, value)
    if report.state == ReportState.RESOLVED:
        return None
    if report.state == ReportState.OPEN and getattr(report, "assign_due", None):
        return TimeLeft(BreachKind.ASSIGN, report.assign_due, report.assign_target, report.assign_due - now)
    if getattr(report, "resolve_due", None):
        return TimeLeft(BreachKind.RESOLVE, report.resolve_due, report.resolve_target, report.resolve_due - now)
    return None


def target_groups(kind: str, *, rows: list[ResponseTarget] | None = None) -> list[tuple[Q, timedelta]]:
    """The reports a limit applies to, as (filter, limit) pairs with no
    subquery: per source, the teams whose own row sets the limit (grouped by
    limit) and everyone else under the default. The targets table is small;
    the filters compare ``created_at`` with constants."""
    field = "time_to_assign" if kind == BreachKind.ASSIGN else "time_to_resolve"
    rows = list(ResponseTarget.objects.all()) if rows is None else rows
    groups = []
    for source in Source.values:
        default = next((getattr(r, field) for r in rows if r.team_id is None and r.source == source), None)
        own = {r.team_id: getattr(r, field) for r in rows
               if r.team_id is not None and r.source == source and getattr(r, field)}
        by_limit: dict[timedelta, list[int]] = {}
        for team_id, limit in own.items():
            by_limit.setdefault(limit, []).append(team_id)
        for limit, team_ids in sorted(by_limit.items()):
            groups.append((Q(source=source, operator_team_id__in=sorted(team_ids)), limit))
        if default:
            others = Q(source=source) & (Q(operator_team__isnull=True) | ~Q(operator_team_id__in=sorted(own)))
            groups.append((others, default))
    return groups


def _any(conditions: list[Q]) -> Q:
    result = Q(pk__in=[])  # matches nothing
    for condition in conditions:
        result |= condition
    return result


def _status_filters(*, now: datetime) -> tuple[Q, Q]:
    """(breached, at risk and not breached) as filters on reports. Breached:
    filed at or before now - limit. At risk: less than the share of the
    limit left, i.e. filed after now - limit and before now - (1 - share) * limit."""
    share = settings.RESPONSE_TARGETS_AT_RISK_SHARE
    rows = list(ResponseTarget.objects.all())
    breached, at_risk = [], []
    for kind in (BreachKind.ASSIGN, BreachKind.RESOLVE):
        for group, limit in target_groups(kind, rows=rows):
            pending = group & _pending(kind)
            breached.append(pending & Q(created_at__lte=now - limit))
            at_risk.append(pending & Q(created_at__gt=now - limit, created_at__lt=now - limit * (1 - share)))
    return _any(breached), _any(at_risk) & ~_any(breached)


def response_target_counts(reports, *, now: datetime | None = None) -> dict[str, int]:
    """Unresolved reports of ``reports`` past a target (breached) and within
    the at-risk share of one (at risk, not breached): one query."""
    breached, at_risk = _status_filters(now=now or timezone.now())
    if breached == _any([]):
        # No target anywhere: nothing can be breached or at risk. Asked
        # anyway, Django selects a constant per unresolved report (its empty
        # filter), and the dashboard read half a million rows for two zeros.
        return {"breached": 0, "at_risk": 0}
    return reports.exclude(state=ReportState.RESOLVED).order_by().aggregate(
        breached=Count("id", filter=breached), at_risk=Count("id", filter=at_risk)
    )


def _shortest_limits(rows: list[ResponseTarget]) -> tuple[dict[str, set[int]], dict[tuple, timedelta]]:
    """The unresolved reports as classes sharing their targets: (source,
    operator team with its own row or None for everyone else, state) -> the
    shortest target that applies (assign and resolve while open, resolve
    once assigned); and source -> the teams with their own row. A report is
    breached when filed at or before now - that limit, and at risk when
    filed after it but before now - (1 - share) x that limit: of its
    targets, the shortest is missed first and its at-risk window ends last."""
    own_teams, limits = {}, {}
    for source in Source.values:
        default = next((r for r in rows if r.team_id is None and r.source == source), None)
        own = {r.team_id: r for r in rows
               if r.team_id is not None and r.source == source and (r.time_to_assign or r.time_to_resolve)}
        own_teams[source] = set(own)
        for team_id in [*own, None]:
            row = own.get(team_id)
            assign = (row and row.time_to_assign) or (default and default.time_to_assign)
            resolve = (row and row.time_to_resolve) or (default and default.time_to_resolve)
            for state, kinds in ((ReportState.OPEN, (assign, resolve)), (ReportState.ASSIGNED, (resolve,))):
                found = [limit for limit in kinds if limit]
                if found:
                    limits[(source, team_id, state.value)] = min(found)
    return own_teams, limits


def response_target_counts_tallied(where: Q, *, scope, now: datetime | None = None) -> dict[str, int]:
    """``response_target_counts`` of the reports ``where`` selects (the
    actor's ``report_scope``), read from the dashboards' tallies
    (``reporting/tallies.py``), folded by the caller.

    Per class (``_shortest_limits``): breached = unresolved - filed after
    the boundary; at risk = filed after the boundary - filed at or after
    the start of the at-risk share. "Filed after X" adds the day tally's
    days after X's day, the hour tally's hours after X's hour within that
    day, and the reports of X's own hour: four grouped queries, none
    reading more than an hour of reports per distinct target."""
    from .models import ReportDayTally, ReportHourTally, ReportOpenTally
    from .querysets import scope_parts
    from .tallies import day_number, hour_number

    now = now or timezone.now()
    share = settings.RESPONSE_TARGETS_AT_RISK_SHARE
    own_teams, limits = _shortest_limits(list(ResponseTarget.objects.all()))
    if not limits:
        return {"breached": 0, "at_risk": 0}

    def class_of(source, team_id, state):
        return (source, team_id if team_id in own_teams.get(source, ()) else None, state)

    # Each distinct limit's two boundaries: (instant, counted from it inclusively).
    bounds = {}
    for limit in set(limits.values()):
        bounds[limit] = ((now - limit, False), (now - limit * (1 - share), True))
    points = sorted({point for pair in bounds.values() for point in pair})
    placed = {point: (day_number(point[0].astimezone(UTC).date()), hour_number(point[0])) for point in points}
    after = defaultdict(int)  # (class, point) -> reports filed after the point
    totals = defaultdict(int)
    unresolved = [ReportState.OPEN, ReportState.ASSIGNED]

    for source, team_id, state, n in _grouped(ReportOpenTally.objects.filter(where), "n"):
        totals[class_of(source, team_id, state)] += n
    first_day = min(day for day, _hour in placed.values())
    for source, team_id, state, day, n in _grouped(
            ReportDayTally.objects.filter(where, state__in=unresolved, day__gt=first_day), "n", "day"):
        key = class_of(source, team_id, state)
        for point in bounds.get(limits.get(key), ()):
            if day > placed[point][0]:
                after[(key, point)] += n
    hour_ranges = Q(pk__in=[])
    for day, hour in set(placed.values()):
        hour_ranges |= Q(hour__gt=hour, hour__lt=(day + 1) * 24)
    for source, team_id, state, hour, n in _grouped(ReportHourTally.objects.filter(where).filter(hour_ranges),
                                                    "n", "hour"):
        key = class_of(source, team_id, state)
        for point in bounds.get(limits.get(key), ()):
            if placed[point][1] < hour < (placed[point][0] + 1) * 24:
                after[(key, point)] += n
    ranges = {}
    for point in points:
        at, inclusive = point
        end = datetime.fromtimestamp((placed[point][1] + 1) * 3600, UTC)
        ranges[point] = (Q(created_at__gte=at) if inclusive else Q(created_at__gt=at)) & Q(created_at__lt=end)
    # Each range with each part of the scope: an index range scan apiece
    # (a team's partial index, or the fleet's), not the fleet's hour filtered.
    any_range = Q(pk__in=[])
    for part in scope_parts(scope):
        for condition in ranges.values():
            any_range |= part & condition
    reports = Report.objects.exclude(state=ReportState.RESOLVED)
    names = {f"p{i}": point for i, point in enumerate(points)}
    exact = (reports.filter(any_range).order_by().values("source", "operator_team_id", "state")
             .annotate(**{name: Count("id", filter=ranges[point]) for name, point in names.items()}))
    for row in exact:
        key = class_of(row["source"], row["operator_team_id"], row["state"])
        for point in bounds.get(limits.get(key), ()):
            after[(key, point)] += row[next(name for name, p in names.items() if p == point)]

    breached = at_risk = 0
    for key, total in totals.items():
        if key not in limits:
            continue
        boundary, risk = bounds[limits[key]]
        breached += total - after[(key, boundary)]
        at_risk += max(0, after[(key, boundary)] - after[(key, risk)])
    return {"breached": breached, "at_risk": at_risk}


def _grouped(queryset, total: str, *extra: str):
    """(source, operator team id, state, *extra, sum of ``total``) rows."""
    return (queryset.order_by().values("source", "operator_team_id", "state", *extra)
            .annotate(total=Sum(total)).values_list("source", "operator_team_id", "state", *extra, "total"))


def reports_by_target_status(reports, *, status: str, now: datetime | None = None):
    """The reports of ``reports`` that are ``breached`` or ``at_risk`` now."""
    breached, at_risk = _status_filters(now=now or timezone.now())
    return reports.filter(breached if status == "breached" else at_risk)


def response_targets_effective(*, team_id: int | None, rows: list[ResponseTarget] | None = None) -> dict[str, dict]:
    """Source -> the times and escalation that apply to a team's reports
    (``rows``: the targets already read, to save the query)."""
    if rows is None:
        rows = ResponseTarget.objects.filter(Q(team__isnull=True) | Q(team_id=team_id))
    rows = {(t.team_id, t.source): t for t in rows}
    result = {}
    for source in Source.values:
        default, own = rows.get((None, source)), rows.get((team_id, source)) if team_id else None
        pick = own or default
        result[source] = {
            "time_to_assign": (own and own.time_to_assign) or (default and default.time_to_assign),
            "time_to_resolve": (own and own.time_to_resolve) or (default and default.time_to_resolve),
            "escalation": pick.escalation if pick else TargetEscalation.NONE,
            "escalate_to": pick.escalate_to if pick else "",
        }
    return result
