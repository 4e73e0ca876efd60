"""Reads on reports."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet

from accounts.models import SUPPORT_GROUP, Membership, Role, User
from accounts.permissions import visible_team_ids
from chargepoints.selectors import telemetry_between

from .catalogue import Party
from .models import Report


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
