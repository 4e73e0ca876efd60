"""The health sweep: run every check, file a system report once per problem,
count the episodes of an open report, and resolve (or annotate) the report
when the problem is gone.

A sweep covers a scope (``checks.IdRange``): the whole fleet or an id range
of it (the hourly reconciliation, a settings change, the first pass), or the
few charge points the incremental engine (``engine.py``) found changed or
due. Either way its work is set-based and proportional to the charge points
in trouble within the scope.

Safe to run twice at once (two beat instances, a retried task):

- Filing is ``INSERT ... ON CONFLICT DO NOTHING`` against the conditional
  unique constraint ``report_one_unresolved_system_report``: the database,
  not a read-then-write, decides who files.
- A problem still there changes nothing on its open report: ``occurrences``
  counts episodes (the condition cleared and came back while the report
  stayed open), and the episode is one conditional update of
  ``condition_cleared_at`` (only the sweep that flips it counts it and
  writes the note).
- Resolving locks the report with ``SKIP LOCKED``; the other sweep skips it.

Maintenance windows (``reporting.maintenance``): a charge point they cover
with no open report gets a "would have filed" row on the window instead of a
report. Flapping (``flapping.py``): every change between healthy and
unhealthy is recorded; a report whose charge point changes too often stays
open and counts episodes. This module finds and files; ``clearing.py``
resolves or annotates what is gone; ``sites.py`` handles whole sites.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from chargepoints.models import ChargePoint
from core.tasks import enqueue_coalesced
from reporting.catalogue import Reason, Source
from reporting.maintenance import (
    NO_WINDOWS,
    ActiveWindows,
    maintenance_record_silenced,
    maintenance_windows_active,
)
from reporting.models import EventKind, Report, ReportState
from reporting.services import report_file_system_bulk, report_system_events_bulk

from .checks import CHECKS, Check, IdRange
from .clearing import clear_gone
from .flapping import forget_old_flips, mark_flapping, record_flips, record_unhealthy_and_count
from .result import SweepResult
from .sites import site_outages_clear, site_outages_detect, sites_down_charge_points, sites_inhibited
from .sql import ids_match
from .thresholds import Flapping, Group, HealthConfig, health_config_load

logger = logging.getLogger(__name__)

# Offenders are filed in slices: bounded statements and bounded memory. On
# PostgreSQL a slice's columns travel as one array parameter each, and every
# statement costs its round trip, hooks and triggers: larger slices. SQLite
# binds each value (at most 32,766 per statement; ~20 per report).
SLICE = 1000
SLICE_POSTGRESQL = 5000
DEADLOCK_RETRIES = 3


@dataclass(frozen=True)
class _Context:
    windows: ActiveWindows = NO_WINDOWS
    flapping: Flapping = Flapping()
    inhibited_sites: frozenset[int] = frozenset()  # open "site offline" reports


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
    scope: IdRange | None = None,
    forget_flips: bool = True,
) -> SweepResult:
    """Run every check over the charge points with ids in [first_id, last_id]
    (all when not given), or over ``scope``. ``forget_flips=False``: leave
    the flips older than the flapping window to another sweep running at
    the same time (they would wait on each other's deletes)."""
    now = now or timezone.now()
    config = config or health_config_load()
    scope = scope or IdRange(first_id, last_id)
    plan = [(check, group) for reason, check in CHECKS.items() for group in config.groups(reason)]
    context = _Context(windows=maintenance_windows_active(now), flapping=config.flapping)
    if forget_flips:
        forget_old_flips(now, config.flapping)
    # A site that came back first: its charge points still down file their own.
    site_resolved, back = site_outages_clear(config, now, scope)
    if back and scope.charge_point_ids is not None:
        scope = replace(scope, charge_point_ids=scope.charge_point_ids | sites_down_charge_points(config, now, back))
    # One message for the notifications' task, not one per check and slice.
    with enqueue_coalesced():
        result, detected = _retry_on_deadlock(lambda: _detect_all(plan, now, scope, context, config))
        result.resolved[Reason.SITE_OFFLINE] += site_resolved
        for check, group in plan:
            # Open reports are looked after even when the check was switched
            # off since: they still close when the problem is gone.
            clear_gone(check, group, now, scope, config, result, in_trouble=detected.get(check.reason, set()))
    return result


def _detect_all(plan, now: datetime, scope: IdRange, context: _Context, config: HealthConfig
                ) -> tuple[SweepResult, dict[str, set[int]]]:
    """Every check's detections in one transaction: one commit per sweep
    (or chunk), and every sweep takes its locks in the same order (check,
    then charge point id), so two sweeps at once wait for each other rather
    than deadlock. Also returns, per reason, the charge points found in
    trouble (their reports cannot be clearing at the same moment)."""
    result = SweepResult()
    detected: dict[str, set[int]] = {}
    with transaction.atomic():
        filed, seen = site_outages_detect(config, now, scope, context.windows)
        result.filed[Reason.SITE_OFFLINE] += filed
        result.seen_again[Reason.SITE_OFFLINE] += seen
        context = replace(context, inhibited_sites=frozenset(sites_inhibited()))
        for check, group in plan:
            if group.thresholds.enabled:
                detected.setdefault(check.reason, set()).update(_detect(check, group, now, scope, result, context))
    return result, detected


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



# --- Detection ---------------------------------------------------------------------


def _detect(check: Check, group: Group, now: datetime, scope: IdRange, result: SweepResult,
            context: _Context) -> list[int]:
    """File the group's offenders; returns their charge point ids."""
    offenders = check.detect(group.thresholds, now, scope).filter(group.charge_points())
    rows = list(offenders.order_by("pk").values(*check.detail_fields))
    size = SLICE_POSTGRESQL if connection.vendor == "postgresql" else SLICE
    for start in range(0, len(rows), size):
        _file(check, group, rows[start : start + size], now, result, context)
    return [row["pk"] for row in rows]


def _file(check: Check, group: Group, rows: list[dict], now: datetime, result: SweepResult,
          context: _Context) -> None:
    reason = check.reason
    by_cp = {row["pk"]: row for row in rows}
    cp_ids = sorted(by_cp)
    existing = _open_reports(reason, cp_ids)
    missing = [cp_id for cp_id in cp_ids if cp_id not in existing]
    if reason == Reason.DISCONNECTED and context.inhibited_sites:
        # The site's outage report covers them (reporting/health/sites.py).
        missing = [cp_id for cp_id in missing if by_cp[cp_id]["site_id"] not in context.inhibited_sites]
    if context.windows and missing:
        # In a maintenance window: what would have been filed, not a report.
        hits = [(window_id, cp_id) for cp_id in missing
                if (window_id := context.windows.window_for(by_cp[cp_id])) is not None]
        if hits:
            maintenance_record_silenced(reason=reason, hits=hits, now=now)
            result.silenced[reason] += len(hits)
            silenced = {cp_id for _window_id, cp_id in hits}
            missing = [cp_id for cp_id in missing if cp_id not in silenced]
    created = report_file_system_bulk(
        reason=reason,
        offenders=[{**by_cp[cp_id], "description": check.describe(by_cp[cp_id], group.thresholds)}
                   for cp_id in missing],
        now=now,
    ) if missing else {}
    # Filed by a concurrent sweep between our read and our INSERT.
    lost = [cp_id for cp_id in missing if cp_id not in created]
    if lost:
        existing.update(_open_reports(reason, lost))

    # A problem that had cleared on a report that stayed open came back: a
    # new episode. Only the sweep whose conditional update flips the flag
    # counts it and writes the note.
    recurred = []
    came_back = [report_id for report_id, cleared_at, _flapping in existing.values() if cleared_at is not None]
    if came_back:
        recurred = list(
            Report.objects.filter(pk__in=came_back, condition_cleared_at__isnull=False)
            .select_for_update(skip_locked=True)
            .values_list("pk", "charge_point_id", "flapping")
        )
        Report.objects.filter(pk__in=[report_id for report_id, _cp, _f in recurred]).update(
            condition_cleared_at=None, occurrences=F("occurrences") + 1, last_seen_at=now, updated_at=now)

    result.seen_again[reason] += len(existing)
    result.filed[reason] += len(created)
    result.recurred[reason] += len(recurred)

    # A flapping report's episodes come and go quietly: its timeline said so once.
    report_system_events_bulk(report_ids=[report_id for report_id, _cp, flapping in recurred if not flapping],
                              kind=EventKind.RECURRED, note="The problem is back.")
    record_flips(reason, [cp_id for _r, cp_id, _f in recurred], healthy=False, now=now)
    if created:
        # The new reports' changes to unhealthy, and how often their charge
        # points changed within the window: one statement.
        counts = record_unhealthy_and_count(reason, list(created), now, context.flapping)
        flappers = [created[cp_id] for cp_id, (flips, _episodes) in counts.items()
                    if cp_id in created and flips > context.flapping.flips]
        if flappers:
            mark_flapping(flappers, {created[cp_id]: counts[cp_id][1] for cp_id in counts if cp_id in created},
                           context.flapping)
            result.flapping[reason] += len(flappers)



def _open_reports(reason: str, cp_ids: list[int]) -> dict[int, tuple[int, object, bool]]:
    """The open system reports for ``reason`` of these charge points: charge
    point id -> (report id, condition_cleared_at, flapping). A read: a
    problem still there writes nothing."""
    if not cp_ids:
        return {}
    match, ids = ids_match("charge_point_id", cp_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT charge_point_id, id, condition_cleared_at, flapping FROM {Report._meta.db_table} "
            f"WHERE source = %s AND reason = %s AND state <> %s AND {match}",
            [Source.SYSTEM, reason, ReportState.RESOLVED, *ids],
        )
        # Only whether the condition had cleared matters here, not when.
        return {cp_id: (report_id, cleared_at, bool(flapping))
                for cp_id, report_id, cleared_at, flapping in cursor.fetchall()}
