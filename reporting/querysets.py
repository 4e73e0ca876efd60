"""A report's states and ``ReportQuerySet``: which reports an actor may see
(``for_user``, from the report's team columns), which are a team's
(``for_teams``, ``team_reports_q``), the unresolved ones, what a list
row needs in one query, and a team's page read range by range
(``by_ranges``, ``reporting.team_ranges``). ``reporting.models``
re-exports all but the Q."""

from __future__ import annotations

from django.db import connections, models
from django.db.models import Case, F, IntegerField, Q, When
from django.db.models.query import ModelIterable
from django.utils.translation import gettext_lazy as _

from accounts.permissions import visible_team_ids
from chargepoints.models import ChargePoint

from . import team_ranges
from .catalogue import Party
from .team_ranges import TeamRanges


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


def _forget_ranges(queryset):
    if isinstance(queryset, ReportQuerySet):
        queryset._splits = ()
    return queryset


class ReportQuerySet(models.QuerySet):
    """Reports, with the tenant scope and what the lists need.

    ``for_user`` and ``any_team`` filter on an OR of a team's index ranges
    and remember them (``reporting.team_ranges``); after ``by_ranges()``,
    on PostgreSQL, a page (a slice newest or oldest first, the id breaking
    ties) is read as a ``UNION ALL`` of the ranges, each cut at the page's
    end, then the page's rows by id, and ``count()`` as the sum of the
    ranges' counts. Every other filter applies inside each range; the rows
    and their order are those of the plain query, which runs wherever the
    ranges do not apply (SQLite, another ordering, values(), an OR with
    another queryset)."""

    # (the OR's node in the WHERE, or None; its ranges), in filter order.
    _splits: tuple = ()
    _by_ranges = False

    def _clone(self):
        clone = super()._clone()
        clone._splits = self._splits
        clone._by_ranges = self._by_ranges
        return clone

    # An OR with another queryset or a set operation is no longer within
    # the ranges: forget them.
    def __or__(self, other):
        return _forget_ranges(super().__or__(other))

    def __xor__(self, other):
        return _forget_ranges(super().__xor__(other))

    def _combinator_query(self, *args, **kwargs):
        clone = super()._combinator_query(*args, **kwargs)
        clone._splits = ()
        return clone

    def _filter_ranges(self, split: TeamRanges) -> ReportQuerySet:
        """Filter on ``split.condition`` and remember its ranges."""
        clone = self.filter(split.condition)
        if split.ranges:
            clone._splits = (*self._splits, (team_ranges.condition_node(clone), split))
        return clone

    def by_ranges(self) -> ReportQuerySet:
        """Read pages and counts range by range (see the class docstring)."""
        clone = self._chain()
        clone._by_ranges = True
        return clone

    def without_ranges(self) -> ReportQuerySet:
        """Forget the ranges: for a filter that is one index range of its
        own (``my_team_q``, ``report_unres_waiting_idx``), which cutting
        it by team column would only make PostgreSQL intersect and sort."""
        clone = self._chain()
        clone._splits = ()
        return clone

    def _ranges_apply(self) -> bool:
        query = self.query
        return bool(
            self._by_ranges and self._splits
            and connections[self.db].features.supports_slicing_ordering_in_compound
            and query.combinator is None and not query.distinct and not query.select_for_update
            and not query.is_empty() and not query.extra and self._iterable_class is ModelIterable
        )

    def _unsliced(self) -> ReportQuerySet:
        clone = self._chain()
        clone.query.clear_limits()
        clone._splits, clone._by_ranges = (), False
        clone._prefetch_related_lookups = ()  # done once, on the page (_fetch_all)
        return clone

    def _fetch_all(self):
        query = self.query
        if self._result_cache is None and query.is_sliced and query.high_mark is not None and self._ranges_apply():
            ordering = team_ranges.range_ordering(query)
            if ordering is not None:
                whole = self._unsliced().order_by(*ordering)
                ids = team_ranges.page_ids(whole, self._splits, ordering, query.low_mark, query.high_mark)
                self._result_cache = list(whole.filter(pk__in=ids)) if ids else []
        super()._fetch_all()

    def disjoint_parts(self) -> list[ReportQuerySet]:
        """The queryset as disjoint querysets whose union it is: one per
        range where the ranges apply, else itself. The back-office
        paginator estimates each (``core.admin.pagination``)."""
        if self.query.is_sliced or not self._ranges_apply():
            return [self]
        return team_ranges.range_querysets(self._unsliced(), self._splits)

    def count(self):
        if self._result_cache is None and not self.query.is_sliced and self._ranges_apply():
            return sum(part.count() for part in self.disjoint_parts())
        return super().count()

    def for_user(self, actor) -> ReportQuerySet:
        """Reports about charge points the actor's teams own or operate, read
        from the report's own team columns (``owner_team``/``operator_team``)
        so that each team's reports are an index range, and the site
        reports ``report_scope`` names."""
        scope = report_scope(actor)
        if scope is None:
            return self
        team_ids, sites = scope
        ranges = tuple(team_ranges.scope_ranges(team_ids, sites))
        return self._filter_ranges(TeamRanges(scope_q(scope), ranges, frozenset(team_ids)))

    def any_team(self, team_id: int) -> ReportQuerySet:
        """The reports of one team as owner or operator (a site report
        carries its site's team in both)."""
        ranges = tuple(team_ranges.scope_ranges([team_id], []))
        return self._filter_ranges(TeamRanges(team_reports_q([team_id]), ranges, frozenset([team_id])))

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
