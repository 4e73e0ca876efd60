"""Stored deadlines (``HealthDeadline``): for each charge point and reason,
the first moment at which the answer of a check can change with no new
telemetry. The engine computes them after it looks at charge points and
looks at a charge point again when one is due.

Besides each check's own ``due`` (``checks.py``), two belong to the sweep:
a disconnection reaching the site outage's threshold (the defaults', which
a team's own may differ from), and a flapping report's hold-down ending.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import F, QuerySet

from chargepoints.models import ChargePoint, ChargePointState
from reporting.catalogue import Reason
from reporting.models import HealthDeadline

from .checks import CHECKS, IdRange, due_rows, open_system_reports
from .thresholds import HealthConfig

Key = tuple[int, str]  # (charge point id, reason)


def deadlines_queries(config: HealthConfig, now: datetime, scope: IdRange) -> list[QuerySet]:
    """The queries of (charge point id, reason, moment) rows whose earliest
    moment per charge point and reason is its deadline (``checks.due_rows``)."""
    queries = []
    for check in CHECKS.values():
        for group in config.groups(check.reason):
            queries += check.due(group.thresholds, now, scope, group.charge_points)
    if config.site_outage.enabled:
        delay = timedelta(minutes=config.defaults[Reason.DISCONNECTED].minutes or 0)
        rows = ChargePoint.objects.filter(scope.q(), state=ChargePointState.DISCONNECTED, state_since__gte=now - delay)
        queries.append(due_rows(rows, "pk", Reason.SITE_OFFLINE, F("state_since") + (delay + timedelta(microseconds=1))))
    hold = timedelta(minutes=config.flapping.hold_down_minutes)
    flapping = (
        open_system_reports().filter(flapping=True, condition_cleared_at__isnull=False, charge_point__isnull=False)
        .filter(scope.q("charge_point_id"))
    )
    queries.append(due_rows(flapping, "charge_point_id", F("reason"), F("condition_cleared_at") + hold))
    return queries


def deadlines_compute(config: HealthConfig, now: datetime, scope: IdRange) -> dict[Key, datetime]:
    """The deadlines of the charge points in scope, as they are now."""
    due: dict[Key, datetime] = {}
    for query in deadlines_queries(config, now, scope):
        for cp_id, reason, at in query:
            key = (cp_id, reason)
            if key not in due or at < due[key]:
                due[key] = at
    return due


def deadlines_refresh(config: HealthConfig, now: datetime, scope: IdRange) -> int:
    """Replace the stored deadlines of the charge points in scope with the
    ones computed now. Returns how many there are. On PostgreSQL one
    ``INSERT ... SELECT`` over the deadline queries: the deadlines of a
    whole fleet never travel to Python and back."""
    stored = HealthDeadline.objects.all()
    if scope != IdRange():
        stored = stored.filter(scope.q("charge_point_id"))
    stored.delete()
    if connection.vendor == "postgresql":
        parts, params = [], []
        for query in deadlines_queries(config, now, scope):
            sql, query_params = query.query.sql_with_params()
            parts.append(f"SELECT * FROM ({sql}) AS part")
            params += query_params
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {HealthDeadline._meta.db_table} (charge_point_id, reason, due_at) "
                f"SELECT cp, reason, min(at) FROM ({' UNION ALL '.join(parts)}) AS due(cp, reason, at) "
                "GROUP BY cp, reason ORDER BY cp, reason",
                params,
            )
            return cursor.rowcount
    due = deadlines_compute(config, now, scope)
    HealthDeadline.objects.bulk_create(
        [HealthDeadline(charge_point_id=cp_id, reason=reason, due_at=at) for (cp_id, reason), at in sorted(due.items())],
        batch_size=500,
    )
    return len(due)


def deadlines_due(now: datetime, *, limit: int) -> set[int]:
    """The charge points with a deadline that has come (the due index)."""
    return set(
        HealthDeadline.objects.filter(due_at__lte=now).order_by("due_at")
        .values_list("charge_point_id", flat=True)[:limit]
    )


def deadlines_missing(config: HealthConfig, now: datetime) -> list[Key]:
    """Deadlines a full computation finds that are not stored (or stored
    later than they should be): charge points the engine would look at too
    late. For the reconciliation."""
    stored = {(cp_id, reason): at for cp_id, reason, at in
              HealthDeadline.objects.values_list("charge_point_id", "reason", "due_at")}
    return sorted(key for key, at in deadlines_compute(config, now, IdRange()).items()
                  if key not in stored or stored[key] > at)

