"""Reads on reports."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import SUPPORT_GROUP, Role, User

from .catalogue import Party
from .models import Report


def report_assignable_people(*, report: Report, party: str) -> QuerySet[User]:
    """People a report may be assigned to within a party: members of the owner
    or operator team who can act on reports, or support staff."""
    cp = report.charge_point
    if party == Party.SUPPORT:
        return User.objects.filter(is_active=True, is_staff=True, groups__name=SUPPORT_GROUP).distinct()
    if cp is None:  # no charge point yet: no owner or operator to name
        return User.objects.none()
    team_id = cp.owner_id if party == Party.OWNER else cp.operator_id
    return User.objects.filter(
        is_active=True,
        memberships__team_id=team_id,
        memberships__role__in=[Role.INSTALLER, Role.ADMIN, Role.OWNER],
    ).distinct()


def report_list(*, actor) -> QuerySet[Report]:
    """Reports the actor may see, with what a list row shows."""
    return Report.objects.for_user(actor).with_context()
