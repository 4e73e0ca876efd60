"""The teams a rollup row belongs to, copied onto the row (``owner_team``,
``operator_team`` of ``PortDay`` and ``ChargePointDay``) so that a team's
dashboard and totals read an index range of its rows instead of joining its
charge points, and kept right when a charge point moves between teams.

- The refresh (``rollups.rollup_days``) writes the charge point's owner and
  operator with each row; ``rollups_refresh`` reads its charge points after
  a lock only a move waits for (FOR KEY SHARE), so a move during a refresh
  cannot leave rows with the former teams.
- ``chargepoints`` sits below this app: its ``charge_point_update`` calls
  ``chargepoints.hooks.charge_point_moved`` in the move's transaction and
  ``rollups_follow_charge_point`` (connected in ``PerformanceConfig.ready``)
  rewrites the moved charge point's rows there, one statement per table, so
  the move and its rollups commit together.

A team's rows are those it owns, and those it operates for another owner
(a few: their own partial indexes, whose condition ``team_rows`` repeats
so that the planner can use them). All of a charge point's rows carry its
current teams, so each falls in exactly one of the two.
"""

from __future__ import annotations

from django.db.models import F, Q

from accounts.permissions import visible_team_ids
from chargepoints.models import ChargePoint

from .models import ChargePointDay, PortDay

# The operator's partial indexes' condition, as Django writes ~Q(operator_team=F("owner_team")).
_OTHER_OWNER = ("NOT ({t}.operator_team_id = ({t}.owner_team_id) AND {t}.operator_team_id IS NOT NULL "
                "AND {t}.owner_team_id IS NOT NULL)")


def rollups_follow_charge_point(*, charge_point: ChargePoint, **_ignored) -> int:
    """The ``chargepoints.hooks.charge_point_moved`` listener: a charge point
    got a new owner or operator; its rollup rows, every day, now belong to
    the new teams. Returns how many rows were rewritten."""
    teams = {"owner_team_id": charge_point.owner_id, "operator_team_id": charge_point.operator_id}
    return sum(
        model.objects.filter(charge_point_id=charge_point.pk).exclude(**teams).update(**teams)
        for model in (PortDay, ChargePointDay)
    )


def team_rows(team_id: int) -> Q:
    """The rollup rows of the charge points the team owns or operates."""
    return Q(owner_team_id=team_id) | (Q(operator_team_id=team_id) & ~Q(operator_team=F("owner_team")))


def team_rows_sql(team_id: int, alias: str = "d") -> tuple[str, tuple]:
    """``team_rows`` as SQL on the rollup table aliased ``alias``, with its
    parameters."""
    return (f"({alias}.owner_team_id = %s OR ({alias}.operator_team_id = %s AND "
            f"{_OTHER_OWNER.format(t=alias)}))", (team_id, team_id))


def whole_team(actor, team_id: int | None) -> int | None:
    """``team_id`` when the actor sees every charge point the team owns or
    operates (support, or a member of the team), so its figures may be read
    by the rollups' team columns; otherwise None (the actor sees only some
    of them: read by charge point)."""
    if team_id is None:
        return None
    visible = visible_team_ids(actor)
    return team_id if visible is None or team_id in visible else None
