"""Reads on reports."""

from __future__ import annotations

import datetime

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import SUPPORT_GROUP, Membership, Role, User
from accounts.permissions import is_support, visible_team_ids
from chargepoints.models import ChargePoint

from . import tallies
from .catalogue import Party, Reason
from .models import Report, ReportChargePointRecent, ReportDayTally, ReportOpenTally
from .querysets import report_scope, scope_q
from .response_targets import response_target_counts, response_target_counts_tallied


def report_assignable_people(*, report: Report | None, party: str) -> QuerySet[User]:
    """People a report may be assigned to within a party: members of the owner
    or operator team who can act on reports, or support staff."""
    if party == Party.SUPPORT:
        # Support staff as User.is_support counts them: staff in the Support
        # group, or superusers.
        return User.objects.filter(
            Q(groups__name=SUPPORT_GROUP) | Q(is_superuser=True), is_active=True, is_staff=True
        ).distinct()
    cp = report.charge_point
    if cp is None:  # no charge point yet: no owner or operator to name
        return User.objects.none()
    team_id = cp.owner_id if party == Party.OWNER else cp.operator_id
    return User.objects.filter(
        is_active=True,
        memberships__team_id=team_id,
        memberships__role__in=[Role.INSTALLER, Role.ADMIN, Role.OWNER],
    ).distinct()


# The evidence on a report's page: the telemetry of a day before the report
# to a day after it was last seen.
# The evidence on a report's page: the rows of the check's own window (the
# ones that made it fire, capped), and a few rows either side, within a day.
EVIDENCE_BEFORE = datetime.timedelta(hours=24)
EVIDENCE_AFTER = datetime.timedelta(hours=24)
EVIDENCE_CONTEXT_ROWS = 5
EVIDENCE_WINDOW_ROWS = 50


def _check_window(report: Report) -> tuple[datetime.datetime, str, int | None] | None:
    """Where the check that filed the report looked: the start of its window
    (ending at the detection, the report's ``created_at``) and a sentence
    saying what it looked for (and the signal threshold), with the thresholds the operator's team has
    now (they may have changed since). None for reports no check filed."""
    from .health.checks import CHECKS
    from .health.thresholds import team_thresholds

    if report.reason not in CHECKS or report.charge_point_id is None:
        return None
    t = team_thresholds(report.reason, report.charge_point.operator_id)
    at = report.created_at
    if report.reason in (Reason.DISCONNECTED, Reason.IN_ERROR):
        minutes = t.minutes or 0
        what = "disconnected" if report.reason == Reason.DISCONNECTED else "in error"
        return at - datetime.timedelta(minutes=minutes), f"{what} for more than {minutes} minutes", None
    if report.reason == Reason.FAILED_CHARGES:
        return (at - datetime.timedelta(minutes=t.window_minutes or 0),
                f"{t.count} or more failed charges within {t.window_minutes} minutes", None)
    kind = "Wi-Fi" if report.reason == Reason.BAD_WIFI else "cellular"
    return (at - datetime.timedelta(minutes=t.window_minutes or 0),
            f"every {kind} reading below {t.dbm} dBm for {t.window_minutes} minutes", t.dbm)


def _around(queryset, field: str, *, start, end, fired) -> list:
    """Oldest first: up to ``EVIDENCE_CONTEXT_ROWS`` rows in the day before
    ``start``, the newest ``EVIDENCE_WINDOW_ROWS`` of [start, end] (each with
    ``fired`` set by the predicate) and up to ``EVIDENCE_CONTEXT_ROWS`` in
    the day after ``end``. Three index range scans, whatever the history."""
    before = list(queryset.filter(**{f"{field}__gte": start - EVIDENCE_BEFORE, f"{field}__lt": start})
                  .order_by(f"-{field}", "-id")[:EVIDENCE_CONTEXT_ROWS])
    window = list(queryset.filter(**{f"{field}__range": (start, end)})
                  .order_by(f"-{field}", "-id")[:EVIDENCE_WINDOW_ROWS])
    after = list(queryset.filter(**{f"{field}__gt": end, f"{field}__lte": end + EVIDENCE_AFTER})
                 .order_by(field, "id")[:EVIDENCE_CONTEXT_ROWS])
    for row in before + after:
        row.fired = False
    for row in window:
        row.fired = fired(row)
    return [*reversed(before), *reversed(window), *after]


def report_evidence(*, report: Report) -> dict:
    """What the charge point's telemetry said around the detection: the
    rows of the window the check looked at (ending at the report's
    ``created_at``), those that made it fire marked ``fired``, and a few
    state changes, readings and charges either side. A report no check
    filed (a driver's, support's) shows the rows around its filing."""
    from chargepoints.models import Charge, ChargeOutcome, SignalKind, SignalReading, StateChange

    at = report.created_at
    found = _check_window(report)
    start, looked_for, dbm = found if found is not None else (at, "", None)
    reason = report.reason
    weak_kind = {Reason.BAD_WIFI: SignalKind.WIFI, Reason.BAD_CELL_SIGNAL: SignalKind.CELLULAR}.get(reason)
    state = {Reason.DISCONNECTED: "disconnected", Reason.IN_ERROR: "error"}.get(reason)
    cp_id = report.charge_point_id
    state_changes = _around(
        StateChange.objects.filter(charge_point_id=cp_id), "occurred_at", start=start, end=at,
        fired=lambda row: state is not None and row.state == state,
    )
    if state is not None:
        # The state change that began it is usually just before the window:
        # the latest one into that state at or before the detection fired.
        into = [row for row in state_changes if row.occurred_at <= at and row.state == state]
        if into:
            into[-1].fired = True
    signals = _around(
        SignalReading.objects.filter(charge_point_id=cp_id), "occurred_at", start=start, end=at,
        fired=lambda row: dbm is not None and row.kind == weak_kind and row.dbm < dbm,
    )
    charges = _around(
        Charge.objects.filter(charge_point_id=cp_id), "ended_at", start=start, end=at,
        fired=lambda row: reason == Reason.FAILED_CHARGES and row.outcome == ChargeOutcome.FAILED,
    )
    shown = [r.occurred_at for r in state_changes + signals] + [r.ended_at for r in charges]
    return {
        "detected_at": at,
        "window_start": start if found is not None else None,
        "looked_for": looked_for,
        "start": min(shown, default=start),
        "end": max(shown, default=at),
        "state_changes": state_changes,
        "signals": signals,
        "charges": charges,
    }


ACTING_ROLES = (Role.INSTALLER, Role.ADMIN, Role.OWNER)


def report_people_by_party(*, reports: list[Report], actor, include_support: bool) -> tuple[dict, dict]:
    """Everyone the reports may be assigned to, for the assign form: person id
    -> person, and person id -> the parties they belong to (the owner and the
    operator are often one team). Two queries, however many reports.

    Operators are offered people of their own teams only: another team's
    members are that team's data."""
    visible = visible_team_ids(actor)
    parties_of_team: dict[int, set[str]] = {}
    for report in reports:
        cp = report.charge_point
        if cp is None:  # a support conversation not linked yet: support only
            continue
        parties_of_team.setdefault(cp.owner_id, set()).add(Party.OWNER.value)
        parties_of_team.setdefault(cp.operator_id, set()).add(Party.OPERATOR.value)
    team_ids = [team_id for team_id in parties_of_team if visible is None or team_id in visible]
    people: dict[int, User] = {}
    parties: dict[int, set[str]] = {}
    memberships = (
        Membership.objects.filter(team_id__in=team_ids, role__in=ACTING_ROLES, user__is_active=True)
        .select_related("user")
    )
    for membership in memberships:
        people[membership.user_id] = membership.user
        parties.setdefault(membership.user_id, set()).update(parties_of_team[membership.team_id])
    if include_support:
        for person in report_assignable_people(report=None, party=Party.SUPPORT):
            people[person.pk] = person
            parties.setdefault(person.pk, set()).add(Party.SUPPORT.value)
    return people, parties


def report_list(*, actor) -> QuerySet[Report]:
    """Reports the actor may see, with what a list row shows."""
    return Report.objects.for_user(actor).with_context()


DASHBOARD_DAYS = tallies.WINDOW_DAYS
DASHBOARD_TOP_CHARGE_POINTS = 10


def report_dashboard_figures(*, actor) -> dict:
    """The dashboard's figures over the reports the actor may see: open
    reports by reason and by party, the oldest open one, reports filed per
    day over DASHBOARD_DAYS, the charge points with the most reports in
    that time, and the response-target counts.

    Read from the tallies (``reporting/tallies.py``), folded first so they
    are exact: a few hundred summary rows whatever the number of reports.
    The oldest open report is the first entry of a partial index per team
    column. ``report_dashboard_figures_from_reports`` computes the same
    figures from the reports (the tests and the benchmark compare them)."""
    now = timezone.now()
    today = now.astimezone(datetime.UTC).date()
    tallies.tallies_fold(today=today)
    scope = report_scope(actor)
    where = Q() if scope is None else scope_q(scope)
    start = today - datetime.timedelta(days=DASHBOARD_DAYS - 1)

    open_rows = (
        ReportOpenTally.objects.filter(where).order_by().values("reason", "assigned_party").annotate(n=Sum("n"))
        .values_list("reason", "assigned_party", "n")
    )
    per_day_rows = dict(
        ReportDayTally.objects.filter(where, day__gte=tallies.day_number(start)).order_by().values("day")
        .annotate(n=Sum("n")).values_list("day", "n")
    )
    per_day_rows = {tallies.EPOCH + datetime.timedelta(days=day): n for day, n in per_day_rows.items()}
    # A charge point's reports share its teams (``reporting.teams`` moves
    # them together), so its count is one row; site reports have none.
    cp_where = Q() if scope is None else Q(owner_team_id__in=scope[0]) | Q(operator_team_id__in=scope[0])
    top_rows = list(
        ReportChargePointRecent.objects.filter(cp_where, n__gt=0).order_by("-n", "charge_point_id")
        .values_list("charge_point_id", "n")[:DASHBOARD_TOP_CHARGE_POINTS]
    )
    return _figures(
        open_rows=open_rows, oldest=_oldest_open(scope), per_day_rows=per_day_rows, start=start,
        top_rows=top_rows, targets=response_target_counts_tallied(where, scope=scope, now=now), now=now,
    )


def _oldest_open(scope) -> Report | None:
    """The oldest unresolved report in scope: the first entry of the
    partial index of each team column (a MIN over an OR of them reads every
    entry of the teams), then that row."""
    unresolved = Report.objects.unresolved()
    if scope is None:
        parts = [unresolved]
    else:
        teams, sites = scope
        if len(teams) > 5:  # one query per index, whatever the number of teams
            parts = [unresolved.filter(owner_team_id__in=teams), unresolved.filter(operator_team_id__in=teams)]
        else:
            parts = ([unresolved.filter(owner_team_id=team) for team in teams]
                     + [unresolved.filter(operator_team_id=team) for team in teams])
        if sites:
            parts.append(unresolved.filter(site_id__in=sites))
    found = [at for part in parts if (at := part.order_by().aggregate(at=Min("created_at"))["at"]) is not None]
    if not found:
        return None
    if scope is not None:
        unresolved = unresolved.filter(scope_q(scope))
    return _oldest_row(unresolved, min(found))


def _oldest_row(unresolved, oldest_at) -> Report | None:
    return (
        unresolved.filter(created_at=oldest_at)
        .order_by("id")
        .select_related("charge_point__site")
        .only("id", "state", "created_at", "reason", "charge_point__name", "charge_point__ocpp_id",
              "charge_point__site__name")
        .first()
    )


def report_dashboard_figures_from_reports(*, actor) -> dict:
    """The dashboard's figures as grouped queries over the reports
    themselves (how the dashboard read them before the tallies): the
    reference ``report_dashboard_figures`` must equal, in the tests and the
    benchmark, and the way to check a figure by hand."""
    reports = Report.objects.for_user(actor)
    unresolved = reports.unresolved()
    now = timezone.now()
    today = now.astimezone(datetime.UTC).date()
    start = today - datetime.timedelta(days=DASHBOARD_DAYS - 1)
    start_at = datetime.datetime.combine(start, datetime.time.min, datetime.UTC)
    open_rows = unresolved.order_by().values("reason", "assigned_party").annotate(n=Count("id")).values_list(
        "reason", "assigned_party", "n")
    oldest_at = unresolved.aggregate(at=Min("created_at"))["at"]
    per_day_rows = dict(
        reports.filter(created_at__gte=start_at)
        .order_by()
        .annotate(day=TruncDate("created_at", tzinfo=datetime.UTC))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    top_rows = list(
        reports.filter(created_at__gte=start_at, charge_point__isnull=False)
        .order_by()
        .values("charge_point_id")
        .annotate(n=Count("id"))
        .order_by("-n", "charge_point_id")
        .values_list("charge_point_id", "n")[:DASHBOARD_TOP_CHARGE_POINTS]
    )
    return _figures(
        open_rows=open_rows, oldest=None if oldest_at is None else _oldest_row(unresolved, oldest_at),
        per_day_rows=per_day_rows, start=start, top_rows=top_rows,
        targets=response_target_counts(unresolved, now=now), now=now,
    )


def _figures(*, open_rows, oldest, per_day_rows, start, top_rows, targets, now) -> dict:
    """The dashboard's dictionary from the figures' rows, however they were read."""
    reason_counts: dict[str, int] = {}
    party_counts: dict[str, int] = {}
    for reason, party, n in open_rows:
        if n:
            reason_counts[reason] = reason_counts.get(reason, 0) + n
            party_counts[party] = party_counts.get(party, 0) + n
    by_reason = [
        {"reason": reason, "label": str(Reason(reason).label), "count": n}
        for reason, n in sorted(reason_counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    by_party = [
        {"party": party, "label": str(Party(party).label), "count": n}
        for party, n in sorted(party_counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    per_day = [
        {"day": start + datetime.timedelta(days=i), "count": per_day_rows.get(start + datetime.timedelta(days=i), 0)}
        for i in range(DASHBOARD_DAYS)
    ]
    names = {
        cp.pk: cp
        for cp in ChargePoint.objects.filter(pk__in=[cp_id for cp_id, _n in top_rows])
        .select_related("site")
        .only("id", "name", "ocpp_id", "site__name")
    }
    top = [
        {"id": cp_id, "name": names[cp_id].name, "ocpp_id": names[cp_id].ocpp_id, "site": names[cp_id].site.name,
         "count": n}
        for cp_id, n in top_rows
        if cp_id in names
    ]
    return {
        "open_total": sum(row["count"] for row in by_party),
        "by_reason": by_reason,
        "by_party": by_party,
        "oldest": None if oldest is None else {
            "id": oldest.pk,
            "created_at": oldest.created_at,
            "reason": str(Reason(oldest.reason).label),
            "reason_code": oldest.reason,
            # Empty without a charge point: the page says so in the reader's language.
            "charge_point": oldest.charge_point.name if oldest.charge_point_id else "",
            "site": oldest.charge_point.site.name if oldest.charge_point_id else "",
        },
        "per_day": per_day,
        "per_day_total": sum(d["count"] for d in per_day),
        # Response-time targets (reporting/response_targets.py).
        "targets": targets,
        "top_charge_points": top,
        "computed_at": now,
    }


START_HERE_ROWS = 5


def report_start_here(*, actor, limit: int = START_HERE_ROWS) -> dict:
    """What the dashboard puts first, fresh on every load (not cached with
    the figures): the newest reports the actor may see, and the actor's own
    work. For support, the work is the support queue (unresolved reports
    routed to support, the conversations among them); for a team member,
    the unresolved reports assigned to them by name."""
    reports = Report.objects.for_user(actor).select_related("charge_point__site", "assigned_to")
    newest = list(reports.order_by("-created_at", "-id")[:limit])
    if is_support(actor):
        work = reports.unresolved().filter(assigned_party=Party.SUPPORT)
    else:
        work = reports.unresolved().filter(assigned_to_id=getattr(actor, "pk", None))
    mine = list(work.order_by("-created_at", "-id")[: limit + 1])
    return {"newest": newest, "mine": mine[:limit], "mine_more": len(mine) > limit}
