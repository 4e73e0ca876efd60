"""The health sweep: run every check, file a system report once per problem,
count repeat detections on the open report, and resolve (or annotate) the
report when the problem is gone.

Safe to run twice at once (two beat instances, a retried task):

- Filing is ``INSERT ... ON CONFLICT DO NOTHING`` against the conditional
  unique constraint ``report_one_unresolved_system_report``: the database,
  not a read-then-write, decides who files. A loser bumps the winner's report.
- Repeat detections are one ``UPDATE ... SET occurrences = occurrences + 1``:
  no read-modify-write, so no update is lost.
- "Detected again" and "condition cleared" notes are conditional updates of
  ``condition_cleared_at`` (only the sweep that flips it writes the note).
- Resolving locks the report with ``SKIP LOCKED``; the other sweep skips it.

Everything a sweep touches is proportional to the charge points in trouble
and their open reports, never to the fleet.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from chargepoints.models import ChargePoint
from reporting.catalogue import Source
from reporting.models import EventKind, Report, ReportState
from reporting.services import (
    report_file_system_bulk,
    report_resolve,
    report_system_event,
    report_system_events_bulk,
)

from .checks import CHECKS, DETAIL_FIELDS, Check, IdRange
from .thresholds import Group, HealthConfig, health_config_load

logger = logging.getLogger(__name__)

# Offenders are filed in slices: bounded statements and bounded memory.
SLICE = 1000
DEADLOCK_RETRIES = 3


@dataclass
class SweepResult:
    filed: Counter = field(default_factory=Counter)
    seen_again: Counter = field(default_factory=Counter)
    recurred: Counter = field(default_factory=Counter)
    resolved: Counter = field(default_factory=Counter)
    cleared_kept: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, int]:
        return {name: sum(getattr(self, name).values()) for name in
                ("filed", "seen_again", "recurred", "resolved", "cleared_kept")}

    def merge(self, other: SweepResult) -> None:
        for name in ("filed", "seen_again", "recurred", "resolved", "cleared_kept"):
            getattr(self, name).update(getattr(other, name))


def health_sweep_chunks(*, chunk_size: int) -> list[tuple[int | None, int | None]]:
    """Charge point id ranges of at most ``chunk_size`` ids covering the fleet
    (two index lookups), for the sweep to hand out to several workers. A
    fleet that fits in one chunk is one open range: (None, None)."""
    first = ChargePoint.objects.order_by("pk").values_list("pk", flat=True).first()
    last = ChargePoint.objects.order_by("-pk").values_list("pk", flat=True).first()
    if first is None or last - first < chunk_size:
        return [(None, None)]
    return [(lo, min(lo + chunk_size - 1, last)) for lo in range(first, last + 1, chunk_size)]


def health_sweep(
    *,
    first_id: int | None = None,
    last_id: int | None = None,
    now: datetime | None = None,
    config: HealthConfig | None = None,
) -> SweepResult:
    """Run every check over the charge points with ids in [first_id, last_id]
    (all when not given)."""
    now = now or timezone.now()
    config = config or health_config_load()
    plan = [(check, group) for reason, check in CHECKS.items() for group in config.groups(reason)]
    result = _retry_on_deadlock(lambda: _detect_all(plan, now, first_id, last_id))
    for check, group in plan:
        # Open reports are looked after even when the check was switched
        # off since: they still close when the problem is gone.
        _clear(check, group, now, first_id, last_id, config, result)
    return result


def _detect_all(plan, now: datetime, first_id, last_id) -> SweepResult:
    """Every check's detections in one transaction: one commit per sweep
    (or chunk), and every sweep takes its locks in the same order (check,
    then charge point id), so two sweeps at once wait for each other rather
    than deadlock."""
    result = SweepResult()
    with transaction.atomic():
        for check, group in plan:
            if group.thresholds.enabled:
                _detect(check, group, now, first_id, last_id, result)
    return result


def _retry_on_deadlock(fn):
    # Sweeps lock in the same order, but a person's change to a report can
    # still make PostgreSQL pick the sweep as a deadlock victim; the
    # transaction rolled back, so running it again is safe.
    for attempt in range(DEADLOCK_RETRIES):
        try:
            return fn()
        except OperationalError as error:
            if "deadlock" not in str(error).lower() or attempt == DEADLOCK_RETRIES - 1:
                raise
            logger.warning("Health sweep: deadlock, retrying (%s)", error)


def _open_system_reports(reason: str):
    return Report.objects.filter(source=Source.SYSTEM, reason=reason).exclude(state=ReportState.RESOLVED)


# --- Detection ---------------------------------------------------------------------


def _detect(check: Check, group: Group, now: datetime, first_id, last_id, result: SweepResult) -> None:
    offenders = check.detect(group.thresholds, now, IdRange(first_id, last_id)).filter(group.charge_points())
    rows = list(offenders.order_by("pk").values(*DETAIL_FIELDS))
    for start in range(0, len(rows), SLICE):
        _file(check, group, rows[start : start + SLICE], now, result)


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _file(check: Check, group: Group, rows: list[dict], now: datetime, result: SweepResult) -> None:
    reason = check.reason
    by_cp = {row["pk"]: row for row in rows}
    cp_ids = sorted(by_cp)
    bumped = _bump(reason, cp_ids, now)
    missing = [cp_id for cp_id in cp_ids if cp_id not in bumped]
    created = report_file_system_bulk(
        reason=reason,
        offenders=[{**by_cp[cp_id], "description": check.describe(by_cp[cp_id], group.thresholds)}
                   for cp_id in missing],
        now=now,
    ) if missing else {}
    # Filed by a concurrent sweep between our UPDATE and INSERT: bump theirs.
    lost = [cp_id for cp_id in missing if cp_id not in created]
    if lost:
        bumped.update(_bump(reason, lost, now))

    # A problem that had cleared on a report a person kept came back. Only
    # the sweep whose conditional update flips the flag writes the note.
    recurred_ids = []
    came_back = [report_id for report_id, cleared_at in bumped.values() if cleared_at is not None]
    if came_back:
        recurred_ids = list(
            Report.objects.filter(pk__in=came_back, condition_cleared_at__isnull=False)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        Report.objects.filter(pk__in=recurred_ids).update(condition_cleared_at=None)

    result.seen_again[reason] += len(bumped)
    result.filed[reason] += len(created)
    result.recurred[reason] += len(recurred_ids)

    report_system_events_bulk(report_ids=recurred_ids, kind=EventKind.RECURRED, note="The problem is back.")


def _db_time(value: datetime):
    # Raw SQL: the value as the backend stores it (SQLite keeps naive UTC text).
    return connection.ops.adapt_datetimefield_value(value)


def _ids_match(column: str, ids: list[int]) -> tuple[str, list]:
    """``column IN (ids)``; on PostgreSQL one array parameter, which a
    thousand placeholders would cost more to send than the query to run."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN ({_placeholders(ids)})", list(ids)


def _bump(reason: str, cp_ids: list[int], now: datetime) -> dict[int, tuple[int, datetime | None]]:
    """Count a repeat detection on the open reports of these charge points.
    Charge point id -> (report id, condition_cleared_at) for those that had one."""
    if not cp_ids:
        return {}
    match, ids = _ids_match("charge_point_id", cp_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Report._meta.db_table} SET occurrences = occurrences + 1, last_seen_at = %s, "
            f"updated_at = %s WHERE source = %s AND reason = %s AND state <> %s "
            f"AND {match} RETURNING charge_point_id, id, condition_cleared_at",
            [_db_time(now), _db_time(now), Source.SYSTEM, reason, ReportState.RESOLVED, *ids],
        )
        return {cp_id: (report_id, cleared_at) for cp_id, report_id, cleared_at in cursor.fetchall()}


# --- Clearing ----------------------------------------------------------------------


def _clear(check: Check, group: Group, now: datetime, first_id, last_id, config: HealthConfig,
           result: SweepResult) -> None:
    reports = _open_system_reports(check.reason).filter(
        group.charge_points("charge_point__"), IdRange(first_id, last_id).q("charge_point_id")
    )
    cleared = list(
        check.cleared(reports, group.thresholds, now).values_list(
            "pk", "assigned_to_id", "charge_point__operator_id", "condition_cleared_at"
        )
    )
    note = check.cleared_note(group.thresholds)
    keep = []
    for report_id, assigned_to_id, operator_id, cleared_at in cleared:
        if assigned_to_id is None and config.auto_resolve_for(operator_id):
            if _resolve(report_id, note):
                result.resolved[check.reason] += 1
        elif cleared_at is None:
            keep.append(report_id)
    if keep:
        with transaction.atomic():
            flipped = list(
                Report.objects.filter(pk__in=keep, condition_cleared_at__isnull=True)
                .exclude(state=ReportState.RESOLVED)
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)
            )
            Report.objects.filter(pk__in=flipped).update(condition_cleared_at=now)
            for report in Report.objects.filter(pk__in=flipped):
                report_system_event(
                    report=report,
                    kind=EventKind.CONDITION_CLEARED,
                    note=f"{note} The report stays open: a person has it or auto-resolve is off.",
                )
            result.cleared_kept[check.reason] += len(flipped)


def _resolve(report_id: int, note: str) -> bool:
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(skip_locked=True)
            .filter(pk=report_id, assigned_to__isnull=True)
            .exclude(state=ReportState.RESOLVED)
            .first()
        )
        if report is None:  # another sweep has it, a person took it, or it is done
            return False
        report_resolve(report=report, by=None, note=f"Resolved by the health checks: {note}")
        return True
