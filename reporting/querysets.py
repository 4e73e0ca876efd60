"""A report's states and ``ReportQuerySet``: which reports an actor may see
(``for_user``, from the report's team columns), which are a team's
(``for_teams``, ``team_reports_q``), the unresolved ones, and what a list
row needs in one query. ``reporting.models`` re-exports all but the Q."""

from __future__ import annotations

from django.db import models
from django.db.models import Case, F, IntegerField, Q, When
from django.utils.translation import gettext_lazy as _

from accounts.permissions import visible_team_ids
from chargepoints.models import ChargePoint

from .catalogue import Party


class ReportState(models.TextChoices):
    OPEN = "open", _("Open")
    ASSIGNED = "assigned", _("Assigned")
    RESOLVED = "resolved", _("Resolved")


def report_scope(actor) -> tuple[list[int], list[int]] | None:
    """What the actor may see as (team ids, site ids), None for everything:
    the reports whose ``owner_team`` or ``operator_team`` is one of the
    teams, and the site reports of the sites. ``scope_q`` turns it into a
    condition on those columns, which the reports and the dashboards'
    tallies (``reporting/tally_models.py``) share.

    A site report belongs to the site's team (both columns) and to the
    teams operating charge points there: those few sites are looked up
    first and named as a list, so the condition stays three index scans
    (a subquery in an OR would make PostgreSQL filter every row)."""
    team_ids = visible_team_ids(actor)
    if team_ids is None:
        return None
    team_ids = list(team_ids)
    # The site belongs to the charge point's owner; the partial index
    # cp_operated_for_others_idx holds exactly these charge points.
    sites = sorted(set(
        ChargePoint.objects.filter(~Q(operator_id=F("owner_id")), operator_id__in=team_ids)
        .exclude(owner_id__in=team_ids).order_by().values_list("site_id", flat=True)
    ))
    return team_ids, sites


def scope_parts(scope: tuple[list[int], list[int]] | None) -> list[Q]:
    """``report_scope``'s (teams, sites) as conditions on the columns
    ``owner_team_id``, ``operator_team_id`` and ``site_id``, one per index
    (``[Q()]`` for everything)."""
    if scope is None:
        return [Q()]
    team_ids, sites = scope
    parts = [Q(owner_team_id__in=team_ids), Q(operator_team_id__in=team_ids)]
    if sites:
        parts.append(Q(site_id__in=sites))
    return parts


def scope_q(scope: tuple[list[int], list[int]]) -> Q:
    """``scope_parts`` as one condition: any of them."""
    condition = Q()
    for part in scope_parts(scope):
        condition |= part
    return condition


def waiting_team():
    """The team a report waits on: its operator team when it is assigned to
    the operator, its owner team when assigned to the owner, none when with
    support. "My team's" filters on it and ``report_unres_waiting_idx``
    indexes it, so a team's page is one index range in the list's order
    (an OR of the two parties made PostgreSQL sort all of them first)."""
    return Case(
        When(assigned_party=Party.OPERATOR, then=F("operator_team")),
        When(assigned_party=Party.OWNER, then=F("owner_team")),
        default=None,
        output_field=IntegerField(),
    )


def team_reports_q(team_ids, *, prefix: str = "") -> Q:
    """The condition of ``ReportQuerySet.for_teams``; ``prefix`` applies it
    to rows pointing at a report (``"report__"`` for its timeline rows)."""
    team_ids = list(team_ids)
    return Q(**{f"{prefix}owner_team_id__in": team_ids}) | Q(**{f"{prefix}operator_team_id__in": team_ids})


class ReportQuerySet(models.QuerySet):
    def for_user(self, actor) -> ReportQuerySet:
        """Reports about charge points the actor's teams own or operate, read
        from the report's own team columns (``owner_team``/``operator_team``)
        so that each team's reports are an index range, and the site
        reports ``report_scope`` names."""
        scope = report_scope(actor)
        return self if scope is None else self.filter(scope_q(scope))

    def for_teams(self, team_ids) -> ReportQuerySet:
        """The reports of these teams, as the team-wide figures, webhooks and
        e-mails count them: a report about a charge point one of them owns
        or operates, or about a whole site of theirs (a site report carries
        its site's team in both columns). Moves are followed:
        ``reporting.teams`` rewrites the columns in the move's transaction.

        Unlike ``for_user``, a site report of another team's site where one
        of them only operates charge points is not theirs: they may see it,
        but it counts for the site's team."""
        return self.filter(team_reports_q(team_ids))

    def unresolved(self) -> ReportQuerySet:
        return self.exclude(state=ReportState.RESOLVED)

    def with_context(self) -> ReportQuerySet:
        """Everything a list row shows, in one query."""
        return self.select_related(
            "charge_point__site", "charge_point__owner", "charge_point__operator", "assigned_to", "site"
        )
