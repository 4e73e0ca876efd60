"""Reads on reports."""

from __future__ import annotations

import datetime

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import SUPPORT_GROUP, Membership, Role, User
from accounts.permissions import is_support, visible_team_ids
from chargepoints.models import ChargePoint
from chargepoints.selectors import telemetry_between

from .catalogue import Party, Reason
from .models import Report
from .response_targets import response_target_counts


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
EVIDENCE_BEFORE = datetime.timedelta(hours=24)
EVIDENCE_AFTER = datetime.timedelta(hours=24)
EVIDENCE_ROWS = 25


def report_evidence(*, report: Report) -> dict:
    """What the charge point's telemetry said around the report: state
    changes, signal readings and charges."""
    start = report.created_at - EVIDENCE_BEFORE
    end = max(report.last_seen_at or report.created_at, report.created_at) + EVIDENCE_AFTER
    return telemetry_between(charge_point_id=report.charge_point_id, start=start, end=end, rows=EVIDENCE_ROWS)


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


DASHBOARD_DAYS = 30
DASHBOARD_TOP_CHARGE_POINTS = 10


def report_dashboard_figures(*, actor) -> dict:
    """The dashboard's figures over the reports the actor may see: open
    reports by reason and by party, the oldest open one, reports filed per
    day over DASHBOARD_DASHBOARD_DAYS, and the charge points with the most reports in
    that time. Each figure is one grouped query."""
    reports = Report.objects.for_user(actor)
    unresolved = reports.unresolved()
    now = timezone.now()
    today = now.date()
    start = today - datetime.timedelta(days=DASHBOARD_DAYS - 1)
    start_at = datetime.datetime.combine(start, datetime.time.min, datetime.UTC)

    # One pass over the unresolved reports gives both breakdowns.
    reason_counts: dict[str, int] = {}
    party_counts: dict[str, int] = {}
    for row in unresolved.order_by().values("reason", "assigned_party").annotate(n=Count("id")):
        reason_counts[row["reason"]] = reason_counts.get(row["reason"], 0) + row["n"]
        party_counts[row["assigned_party"]] = party_counts.get(row["assigned_party"], 0) + row["n"]
    by_reason = [
        {"reason": reason, "label": str(Reason(reason).label), "count": n}
        for reason, n in sorted(reason_counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    by_party = [
        {"party": party, "label": str(Party(party).label), "count": n}
        for party, n in sorted(party_counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    # MIN first, then the row: for a team, ORDER BY created_at LIMIT 1 walks
    # the date index through every other team's reports (seconds on a
    # million rows); the aggregate reads the team's own rows instead.
    oldest_at = unresolved.aggregate(at=Min("created_at"))["at"]
    oldest = None
    if oldest_at is not None:
        oldest = (
            unresolved.filter(created_at=oldest_at)
            .order_by("id")
            .select_related("charge_point__site")
            .only("id", "state", "created_at", "reason", "charge_point__name", "charge_point__ocpp_id",
                  "charge_point__site__name")
            .first()
        )
    per_day_rows = dict(
        reports.filter(created_at__gte=start_at)
        .order_by()
        .annotate(day=TruncDate("created_at", tzinfo=datetime.UTC))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    per_day = [
        {"day": start + datetime.timedelta(days=i), "count": per_day_rows.get(start + datetime.timedelta(days=i), 0)}
        for i in range(DASHBOARD_DAYS)
    ]
    top_rows = list(
        reports.filter(created_at__gte=start_at)
        .order_by()
        .values("charge_point_id")
        .annotate(n=Count("id"))
        .order_by("-n", "charge_point_id")[:DASHBOARD_TOP_CHARGE_POINTS]
    )
    names = {
        cp.pk: cp
        for cp in ChargePoint.objects.filter(pk__in=[r["charge_point_id"] for r in top_rows])
        .select_related("site")
        .only("id", "name", "ocpp_id", "site__name")
    }
    top = [
        {"id": r["charge_point_id"], "name": names[r["charge_point_id"]].name,
         "ocpp_id": names[r["charge_point_id"]].ocpp_id, "site": names[r["charge_point_id"]].site.name,
         "count": r["n"]}
        for r in top_rows
        if r["charge_point_id"] in names
    ]
    return {
        "open_total": sum(row["count"] for row in by_party),
        "by_reason": by_reason,
        "by_party": by_party,
        "oldest": None if oldest is None else {
            "id": oldest.pk,
            "created_at": oldest.created_at,
            "reason": str(Reason(oldest.reason).label),
            "charge_point": oldest.charge_point.name if oldest.charge_point_id else "no charge point yet",
            "site": oldest.charge_point.site.name if oldest.charge_point_id else "—",
        },
        "per_day": per_day,
        "per_day_total": sum(d["count"] for d in per_day),
        # Response-time targets (reporting/response_targets.py): one query.
        "targets": response_target_counts(unresolved, now=now),
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
