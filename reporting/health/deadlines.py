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

from chargepoints.models import ChargePoint, ChargePointState
from core.pg_arrays import int_array, text_array, timestamp_array
from reporting.catalogue import Reason
from reporting.models import HealthDeadline

from .checks import CHECKS, IdRange, open_system_reports
from .thresholds import HealthConfig

Key = tuple[int, str]  # (charge point id, reason)


def deadlines_compute(config: HealthConfig, now: datetime, scope: IdRange) -> dict[Key, datetime]:
    """The deadlines of the charge points in scope, as they are now."""
    due: dict[Key, datetime] = {}

    def add(reason: str, pairs) -> None:
        for cp_id, at in pairs:
            key = (cp_id, reason)
            if key not in due or at < due[key]:
                due[key] = at

    for reason, check in CHECKS.items():
        for group in config.groups(reason):
            add(reason, check.due(group.thresholds, now, scope, group.charge_points))
    if config.site_outage.enabled:
        delay = timedelta(minutes=config.defaults[Reason.DISCONNECTED].minutes or 0)
        rows = ChargePoint.objects.filter(scope.q(), state=ChargePointState.DISCONNECTED,
                                          state_since__gte=now - delay).values_list("pk", "state_since")
        add(Reason.SITE_OFFLINE, ((pk, since + delay + timedelta(microseconds=1)) for pk, since in rows))
    hold = timedelta(minutes=config.flapping.hold_down_minutes)
    flapping = (
        open_system_reports().filter(flapping=True, condition_cleared_at__isnull=False, charge_point__isnull=False)
        .filter(scope.q("charge_point_id"))
        .values_list("charge_point_id", "reason", "condition_cleared_at")
    )
    for cp_id, reason, cleared_at in flapping:
        add(reason, [(cp_id, cleared_at + hold)])
    return due


def deadlines_refresh(config: HealthConfig, now: datetime, scope: IdRange) -> int:
    """Replace the stored deadlines of the charge points in scope with the
    ones computed now. Returns how many there are."""
    due = deadlines_compute(config, now, scope)
    stored = HealthDeadline.objects.all()
    if scope != IdRange():
        stored = stored.filter(scope.q("charge_point_id"))
    stored.delete()
    rows = sorted((cp_id, reason, at) for (cp_id, reason), at in due.items())
    if connection.vendor == "postgresql" and rows:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {HealthDeadline._meta.db_table} (charge_point_id, reason, due_at) "
                "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[])",
                [int_array(r[0] for r in rows), text_array(r[1] for r in rows), timestamp_array(r[2] for r in rows)],
            )
    else:
        HealthDeadline.objects.bulk_create(
            [HealthDeadline(charge_point_id=cp_id, reason=reason, due_at=at) for cp_id, reason, at in rows],
            batch_size=500,
        )
    return len(rows)


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

