"""The teams a report belongs to, copied onto the report (``owner_team``,
``operator_team``) so that a team's lists read an index range, and kept
right when a charge point or a site moves between teams.

- A report about a charge point: the charge point's owner and operator.
- A report about a whole site (a site outage): the site's team in both
  columns, as that team owns and runs the site (``my_team_q`` treats it as
  both parties); the other teams operating charge points there see it
  through ``ReportQuerySet.for_user``'s site list, which follows their
  charge points without a copy.
- A support conversation without a charge point: neither, until support
  links one (``reporting.conversations.report_link_charge_point``).

The filing services write the columns with the report. ``chargepoints``
sits below this app, so its services call ``chargepoints.hooks``'s
``charge_point_moved`` / ``site_moved`` in the move's transaction and this
module's listeners (connected in ``ReportingConfig.ready``) rewrite the
moved reports there, in one statement each.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q

from chargepoints.models import ChargePoint, Site

from .catalogue import Source
from .models import Report


def report_teams(*, charge_point: ChargePoint | None = None, site: Site | None = None) -> dict:
    """The team columns of a new report about ``charge_point`` or ``site``."""
    if charge_point is not None:
        return {"owner_team_id": charge_point.owner_id, "operator_team_id": charge_point.operator_id}
    if site is not None:
        return {"owner_team_id": site.team_id, "operator_team_id": site.team_id}
    return {"owner_team_id": None, "operator_team_id": None}


def site_teams(site_ids) -> dict[int, int]:
    """Site id -> its team id (site reports carry it in both columns)."""
    return dict(Site.objects.filter(pk__in=list(site_ids)).values_list("pk", "team_id"))


def reports_follow_charge_point(*, charge_point: ChargePoint, **_ignored) -> int:
    """A charge point got a new owner or operator: its reports, resolved or
    not, now belong to the new teams. Returns how many were rewritten."""
    return (
        Report.objects.filter(charge_point_id=charge_point.pk)
        .exclude(owner_team_id=charge_point.owner_id, operator_team_id=charge_point.operator_id)
        .update(owner_team_id=charge_point.owner_id, operator_team_id=charge_point.operator_id)
    )


def reports_follow_site(*, site: Site, **_ignored) -> int:
    """A site went to another team (only while it holds no charge points):
    its site reports go with it."""
    return (
        Report.objects.filter(site_id=site.pk, charge_point__isnull=True)
        .exclude(owner_team_id=site.team_id, operator_team_id=site.team_id)
        .update(owner_team_id=site.team_id, operator_team_id=site.team_id)
    )


def reports_with_stale_teams(*, filed_since: datetime) -> list[tuple[int, int]]:
    """(report id, charge point id) of the system reports about a charge
    point filed since ``filed_since`` whose teams are not their charge
    point's. A move rewrites the reports it can see; a report filed from a
    read of the teams made just before the move committed, or not yet
    committed when the move rewrote the others, keeps the former teams: the
    health sweep files thousands from one read (one report at a time,
    ``report_create`` reads the teams under a lock). The hourly
    reconciliation looks for them and repairs them."""
    stale = (
        Report.objects.filter(created_at__gte=filed_since, source=Source.SYSTEM, charge_point__isnull=False)
        # A negated comparison is also true of an empty column (Django adds
        # the IS NOT NULL to the negation).
        .filter(~Q(owner_team_id=F("charge_point__owner_id")) | ~Q(operator_team_id=F("charge_point__operator_id")))
    )
    return list(stale.order_by("pk").values_list("pk", "charge_point_id"))


def reports_teams_repair(charge_point_ids) -> int:
    """Rewrite the teams of these charge points' reports from the charge
    points as they are now (what a move does). Returns how many changed."""
    return sum(reports_follow_charge_point(charge_point=charge_point)
               for charge_point in ChargePoint.objects.filter(pk__in=sorted(set(charge_point_ids))))
