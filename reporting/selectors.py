"""Reads on reports."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import SUPPORT_GROUP, Role, User

from .catalogue import Party
from .models import Report


def report_assignable_people(*, report: Report, party: str) -> QuerySet[User]:
    """People a report may be assigned to within a party: members of the owner
    or operator team who can act on reports, or support staff."""
    cp = report.charge_point
    if party == Party.SUPPORT:
        # Support staff as User.is_support counts them: staff in the Support
        # group, or superusers.
        return User.objects.filter(
            Q(groups__name=SUPPORT_GROUP) | Q(is_superuser=True), is_active=True, is_staff=True
        ).distinct()
    team_id = cp.owner_id if party == Party.OWNER else cp.operator_id
    return User.objects.filter(
        is_active=True,
        memberships__team_id=team_id,
        memberships__role__in=[Role.INSTALLER, Role.ADMIN, Role.OWNER],
    ).distinct()


def report_list(*, actor) -> QuerySet[Report]:
    """Reports the actor may see, with what a list row shows."""
    return Report.objects.for_user(actor).with_context()
