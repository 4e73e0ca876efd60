"""A report's states and ``ReportQuerySet``: which reports an actor may see
(``for_user``, from the report's team columns), which are a team's
(``for_teams``, ``team_reports_q``), the unresolved ones, what a list
row needs in one query, and a list's page read as one index range per
team column (``by_ranges``). ``reporting.models`` re-exports all but the Q."""

from __future__ import annotations

import re

from django.db import connections, models
from django.db.models import Case, F, IntegerField, Q, When
from django.db.models.query import ModelIterable
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


# Above this many teams a range per team and column would make a long
# UNION; one range per column (an ``IN`` list) serves instead.
MAX_TEAM_RANGES = 10


def scope_ranges(scope: tuple[list[int], list[int]]) -> list[Q]:
    """``scope_q`` as disjoint conditions, each one index range in the
    lists' order: a team's reports as owner, then as operator where the
    owner is none of the teams, then the site reports no team column
    already holds. Their union is ``scope_q``; a report matches exactly
    one (the negations keep a NULL column: ``~Q`` on a nullable column
    reads ``NOT (col IN … AND col IS NOT NULL)``)."""
    team_ids, sites = scope
    if not team_ids:
        return []
    per_team = len(team_ids) <= MAX_TEAM_RANGES
    not_owned = ~Q(owner_team_id__in=team_ids)
    if per_team:
        ranges = [Q(owner_team_id=team) for team in team_ids]
        ranges += [Q(operator_team_id=team) & not_owned for team in team_ids]
    else:
        ranges = [Q(owner_team_id__in=team_ids), Q(operator_team_id__in=team_ids) & not_owned]
    if sites:
        ranges.append(Q(site_id__in=sites) & not_owned & ~Q(operator_team_id__in=team_ids))
    return ranges


def team_ranges(team_id: int) -> list[Q]:
    """One team's reports (as owner or operator, ``TeamFilter``) as two
    disjoint index ranges."""
    return [Q(owner_team_id=team_id), Q(operator_team_id=team_id) & ~Q(owner_team_id=team_id)]


# The orderings an index range serves (the team indexes are on
# (team, -created_at, -id); read backwards for the ascending ones).
_RANGE_ORDERING = re.compile(r"-?created_at")
_RANGE_TIEBREAK = re.compile(r"-?(id|pk)")


def _range_ordering(query) -> list[str] | None:
    """The query's ordering as field names when it is newest or oldest
    first with the id as tie-break (a total order), else None."""
    ordering = list(query.order_by) or (list(query.get_meta().ordering) if query.default_ordering else [])
    if query.extra_order_by or not all(isinstance(key, str) for key in ordering):
        return None
    # A field named again orders nothing, nor do keys after the id (the
    # admin appends its default ordering to a column's).
    keys: dict[str, str] = {}
    for key in ordering:
        keys.setdefault(key.lstrip("-").replace("pk", "id"), key)
    ordering = list(keys.values())[:2]
    if len(ordering) != 2:
        return None
    first, tiebreak = ordering
    if not (_RANGE_ORDERING.fullmatch(first) and _RANGE_TIEBREAK.fullmatch(tiebreak)):
        return None
    return [first, tiebreak.replace("pk", "id")]


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
    """Reports, with the tenant scope and what the lists need.

    A team's lists are an OR of index ranges (its reports as owner, as
    operator, its site reports), which PostgreSQL cannot walk in the
    lists' order: it walks the ``created_at`` index over every team, or
    reads all of the team's rows and sorts them. ``for_user`` and
    ``any_team`` remember the ranges of their condition; after
    ``by_ranges()``, a page (a slice in ``-created_at, -id`` order or its
    reverse) is read as a ``UNION ALL`` of the ranges, each cut at the
    page's end, and ``count()`` as the sum of the ranges' counts. Every
    other filter applies inside each range; the rows and their order are
    those of the plain query. Elsewhere (SQLite, another ordering, a
    values() query) the plain query runs."""

    _ranges: list[Q] | None = None
    _by_ranges = False

    def _clone(self):
        clone = super()._clone()
        clone._ranges = self._ranges
        clone._by_ranges = self._by_ranges
        return clone

    # An OR with another queryset or a set operation is no longer within
    # the ranges: forget them.
    def __or__(self, other):
        combined = super().__or__(other)
        if isinstance(combined, ReportQuerySet):
            combined._ranges = None
        return combined

    def __xor__(self, other):
        combined = super().__xor__(other)
        if isinstance(combined, ReportQuerySet):
            combined._ranges = None
        return combined

    def _combinator_query(self, *args, **kwargs):
        clone = super()._combinator_query(*args, **kwargs)
        clone._ranges = None
        return clone

    def _with_ranges(self, ranges: list[Q]) -> ReportQuerySet:
        """Remember ``ranges``: disjoint conditions whose union is a
        condition this queryset is already filtered on."""
        clone = self._chain()
        clone._ranges = ranges
        return clone

    def by_ranges(self) -> ReportQuerySet:
        """Read pages and counts range by range (see the class docstring)."""
        clone = self._chain()
        clone._by_ranges = True
        return clone

    def _ranges_apply(self) -> bool:
        query = self.query
        return bool(
            self._by_ranges and self._ranges
            and connections[self.db].features.supports_slicing_ordering_in_compound
            and query.combinator is None and not query.distinct and not query.select_for_update
            and not query.is_empty() and not query.extra and self._iterable_class is ModelIterable
        )

    def _fetch_all(self):
        if self._result_cache is None and self.query.is_sliced and self.query.high_mark is not None \
                and self._ranges_apply():
            ordering = _range_ordering(self.query)
            if ordering is not None:
                self._result_cache = self._page_by_ranges(ordering)
        super()._fetch_all()

    def _unsliced(self) -> ReportQuerySet:
        clone = self._chain()
        clone.query.clear_limits()
        clone._ranges, clone._by_ranges = None, False
        return clone

    def _page_by_ranges(self, ordering: list[str]) -> list:
        """The slice's rows: the ids of each range's first ``high_mark``
        rows, merged, ordered and sliced, then those rows."""
        start, stop = self.query.low_mark, self.query.high_mark
        whole = self._unsliced().order_by(*ordering)
        ids_of = [whole.filter(part).values_list("id", "created_at")[:stop] for part in self._ranges]
        merged = ids_of[0].union(*ids_of[1:], all=True) if len(ids_of) > 1 else ids_of[0]
        ids = [row[0] for row in merged.order_by(*ordering)[start:stop]]
        if not ids:
            return []
        return list(whole.filter(pk__in=ids))

    def count(self):
        if self._result_cache is None and not self.query.is_sliced and self._ranges_apply():
            whole = self._unsliced()
            return sum(whole.filter(part).count() for part in self._ranges)
        return super().count()

    def for_user(self, actor) -> ReportQuerySet:
        """Reports about charge points the actor's teams own or operate, read
        from the report's own team columns (``owner_team``/``operator_team``)
        so that each team's reports are an index range, and the site
        reports ``report_scope`` names."""
        scope = report_scope(actor)
        if scope is None:
            return self
        return self.filter(scope_q(scope))._with_ranges(scope_ranges(scope))

    def any_team(self, team_id: int) -> ReportQuerySet:
        """The reports of one team as owner or operator (a site report
        carries its site's team in both)."""
        ranges = team_ranges(team_id)
        return self.filter(Q(owner_team_id=team_id) | Q(operator_team_id=team_id))._with_ranges(ranges)

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
