"""Need to know: who sees a driver's name, e-mail address and phone number
on a report (docs/privacy.md).

- Support: always.
- A team's people: on reports of charge points their team owns or operates,
  with a role that holds ``Capability.VIEW_DRIVER_CONTACT`` (installer and
  up; a viewer never), and only while the report is unresolved; a team may
  shorten that to a number of days after filing (``ReportSettings.
  driver_contact_days``).
- An API key: the same, and only when it was given the ``driver_contact``
  scope when it was made.

Everyone else sees the report with the contact details masked: the
description stays, since it is what the problem is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKeyScope
from accounts.permissions import Capability, is_support, role_allows

from .models import Report, ReportState
from .settings_models import ReportSettings

# What a masked viewer reads in place of the details and of timeline notes
# that quote a driver by name.
HIDDEN_NOTICE = _(
    "A driver's contact details are shown to support, and to installers and up in the report's "
    "teams while it is open."
)
HIDDEN_REPEAT_NOTE = _("A driver reported this again.")


def _contact_days_by_team(actor, team_ids: list[int]) -> dict[int, int | None]:
    """The teams' ``driver_contact_days``, cached on the actor for a request
    (a list of a hundred reports asks for a handful of teams)."""
    cache = getattr(actor, "_driver_contact_days", None)
    if cache is None:
        cache = {}
        try:
            actor._driver_contact_days = cache
        except AttributeError:  # an actor that takes no attributes: no cache
            pass
    missing = [team_id for team_id in team_ids if team_id not in cache]
    if missing:
        found = dict(
            ReportSettings.objects.filter(team_id__in=missing).values_list("team_id", "driver_contact_days")
        )
        for team_id in missing:
            cache[team_id] = found.get(team_id)
    return {team_id: cache[team_id] for team_id in team_ids}


def driver_contact_visible(*, actor, report: Report, now: datetime | None = None) -> bool:
    if is_support(actor):
        return True
    roles_by_team = getattr(actor, "roles_by_team", None)
    if actor is None or roles_by_team is None or report.charge_point_id is None:
        return False
    if hasattr(actor, "has_scope") and not actor.has_scope(ApiKeyScope.DRIVER_CONTACT):
        return False
    if report.state == ReportState.RESOLVED:
        return False
    roles = roles_by_team()
    cp = report.charge_point
    teams = [
        team_id for team_id in {cp.owner_id, cp.operator_id}
        if role_allows(roles.get(team_id), Capability.VIEW_DRIVER_CONTACT)
    ]
    if not teams:
        return False
    now = now or timezone.now()
    for days in _contact_days_by_team(actor, teams).values():
        if days is None or report.created_at >= now - timedelta(days=days):
            return True
    return False


def reports_with_visible_contact(queryset, *, actor, now: datetime | None = None):
    """The reports of ``queryset`` on which ``actor`` may see the driver's
    contact details: ``driver_contact_visible`` as one filter, so a search
    on a driver's name or e-mail finds only reports that could show it."""
    if is_support(actor):
        return queryset
    roles_by_team = getattr(actor, "roles_by_team", None)
    if actor is None or roles_by_team is None:
        return queryset.none()
    if hasattr(actor, "has_scope") and not actor.has_scope(ApiKeyScope.DRIVER_CONTACT):
        return queryset.none()
    teams = [team_id for team_id, role in roles_by_team().items()
             if role_allows(role, Capability.VIEW_DRIVER_CONTACT)]
    if not teams:
        return queryset.none()
    now = now or timezone.now()
    by_days: dict[int | None, list[int]] = {}
    for team_id, days in _contact_days_by_team(actor, teams).items():
        by_days.setdefault(days, []).append(team_id)
    allowed = Q()
    for days, team_ids in by_days.items():
        of_teams = Q(owner_team_id__in=team_ids) | Q(operator_team_id__in=team_ids)
        if days is not None:
            of_teams &= Q(created_at__gte=now - timedelta(days=days))
        allowed |= of_teams
    return queryset.exclude(state=ReportState.RESOLVED).filter(charge_point__isnull=False).filter(allowed)
