"""A team's reports as disjoint index ranges, and a page or a count read
range by range (``ReportQuerySet.by_ranges``).

A team's lists are an OR of index ranges: its reports as owner, as
operator, and the site reports it sees. PostgreSQL 15 cannot walk an OR of
two index ranges in the lists' order: it walks the ``created_at`` index
over every team and drops the other teams' rows, or reads all of the
team's rows and sorts them, and either grows with the team's share of the
table. Read as a ``UNION ALL`` of the ranges, each cut at the page's end,
each range is a walk of its own index for about a page of rows.

The ranges are disjoint, so the rows of the union are those of the OR,
each once, and the count is the sum of the ranges' counts: a report of
the team as owner is in the owner range only; as operator only when the
owner is none of the teams; a site report only when neither column is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import F, Q
from django.db.models.sql.where import AND, OR, WhereNode

# A report about a charge point its owner lets another team operate. The
# operator range reads only these (the others are in the owner range),
# through the partial index report_op_for_others_idx, so a team that
# operates its own charge points does not walk all of them twice. Written
# once here: the index's condition and the query's must be the same for
# PostgreSQL to use the index.
OPERATED_FOR_OTHERS = ~Q(owner_team_id=F("operator_team_id"))

# Above this many teams a range per team and column would make a long
# UNION; one range per column (an ``IN`` list) serves instead.
MAX_TEAM_RANGES = 10


@dataclass(frozen=True)
class Range:
    """One index range: ``condition``, and the teams one of whose columns
    every report in it has (none for site reports)."""

    condition: Q
    teams: frozenset[int]


@dataclass(frozen=True)
class TeamRanges:
    """``condition``, which a queryset is filtered on, as disjoint
    ``ranges`` whose union it is; any report with a team column in
    ``teams`` meets it."""

    condition: Q
    ranges: tuple[Range, ...]
    teams: frozenset[int]


def scope_ranges(team_ids: list[int], sites: list[int]) -> list[Range]:
    """The reports of ``team_ids`` (either column) and the site reports of
    ``sites`` (``reporting.querysets.report_scope``) as disjoint ranges: each
    team's reports as owner, then as operator where the owner is none of
    the teams, then the site reports neither column gives. The negations
    keep a NULL column (``~Q`` on a nullable column reads ``NOT (col IN …
    AND col IS NOT NULL)``)."""
    if not team_ids:
        return []
    teams = frozenset(team_ids)
    not_owned = ~Q(owner_team_id__in=team_ids)
    if len(team_ids) <= MAX_TEAM_RANGES:
        ranges = [Range(Q(owner_team_id=team), frozenset([team])) for team in team_ids]
        ranges += [Range(Q(operator_team_id=team) & OPERATED_FOR_OTHERS & not_owned, frozenset([team]))
                   for team in team_ids]
    else:
        ranges = [Range(Q(owner_team_id__in=team_ids), teams),
                  Range(Q(operator_team_id__in=team_ids) & OPERATED_FOR_OTHERS & not_owned, teams)]
    if sites:
        ranges.append(Range(Q(site_id__in=sites) & not_owned & ~Q(operator_team_id__in=team_ids), frozenset()))
    return ranges


def condition_node(queryset) -> WhereNode | None:
    """The node the queryset's last ``filter(a | b …)`` added to its WHERE,
    when it is one OR among the conditions ANDed at the top."""
    where = queryset.query.where
    if where.connector != AND or where.negated or not where.children:
        return None
    node = where.children[-1]
    return node if isinstance(node, WhereNode) and node.connector == OR and not node.negated else None


def _drop(queryset, node: WhereNode) -> None:
    """Take one top-level condition equal to ``node`` out of the queryset's
    WHERE (a fresh clone's), if it has one."""
    children = queryset.query.where.children
    for i, child in enumerate(children):
        if child == node:
            del children[i]
            return


def range_querysets(whole, splits) -> list:
    """``whole`` (unsliced, ordered) cut into one queryset per range of the
    last split. The OR conditions a range implies (the split's own, and a
    scope whose teams include the range's) are taken out of it, so that
    PostgreSQL estimates the range as the index range it is instead of
    multiplying in the same team condition again."""
    *others, (own_node, chosen) = splits
    parts = []
    for part in chosen.ranges:
        queryset = whole._chain()
        if queryset.query.where.connector == AND and not queryset.query.where.negated:
            for node, split in [*others, (own_node, chosen)]:
                implied = split is chosen or (part.teams and part.teams <= split.teams)
                if node is not None and implied:
                    _drop(queryset, node)
        parts.append(queryset.filter(part.condition))
    return parts


# The orderings a range serves: the team indexes are on (team,
# -created_at, -id), read backwards for the ascending ones.
_FIRST = re.compile(r"-?created_at")
_TIEBREAK = re.compile(r"-?id")


def range_ordering(query) -> list[str] | None:
    """The query's ordering as field names when it is newest or oldest
    first with the id as tie-break (a total order), else None."""
    ordering = list(query.order_by) or (list(query.get_meta().ordering) if query.default_ordering else [])
    if query.extra_order_by or not all(isinstance(key, str) for key in ordering):
        return None
    # A field named again orders nothing, nor do keys after the id (the
    # admin appends its default ordering to a column's).
    keys: dict[str, str] = {}
    for key in ordering:
        name = key.lstrip("-")
        name = "id" if name == "pk" else name
        keys.setdefault(name, ("-" if key.startswith("-") else "") + name)
    ordering = list(keys.values())[:2]
    if len(ordering) != 2 or not (_FIRST.fullmatch(ordering[0]) and _TIEBREAK.fullmatch(ordering[1])):
        return None
    return ordering


def page_ids(whole, splits, ordering: list[str], start: int, stop: int) -> list[int]:
    """The ids of ``whole[start:stop]`` in ``ordering``: each range's first
    ``stop`` ids, merged (one ``UNION ALL`` query), ordered and sliced."""
    parts = [part.order_by(*ordering).values_list("id", "created_at")[:stop]
             for part in range_querysets(whole, splits)]
    merged = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return [row[0] for row in merged.order_by(*ordering)[start:stop]]
