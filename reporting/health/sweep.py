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

Maintenance windows (``reporting.maintenance``): a charge point they cover
with no open report gets a "would have filed" row on the window instead of a
report; an open report keeps counting. Flapping: every change between
healthy and unhealthy the sweep makes is a ``HealthFlip`` row; a report
whose charge point changed more than ``flips`` times within the window stays
open (``flapping``), counts episodes, and resolves after the hold-down.

Everything a sweep touches is proportional to the charge points in trouble
and their open reports, never to the fleet.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from chargepoints.models import ChargePoint
from reporting.catalogue import Reason, Source
from reporting.maintenance import (
    NO_WINDOWS,
    ActiveWindows,
    maintenance_record_silenced,
    maintenance_windows_active,
)
from reporting.models import EventKind, HealthFlip, Report, ReportState
from reporting.services import (
    report_file_system_bulk,
    report_resolve,
    report_system_event,
    report_system_events_bulk,
)

from .checks import CHECKS, DETAIL_FIELDS, Check, IdRange
from .sites import site_outages_clear, site_outages_detect, sites_inhibited
from .thresholds import Flapping, Group, HealthConfig, health_config_load

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
    silenced: Counter = field(default_factory=Counter)  # "would have filed" in a maintenance window
    flapping: Counter = field(default_factory=Counter)  # reports marked flapping

    NAMES = ("filed", "seen_again", "recurred", "resolved", "cleared_kept", "silenced", "flapping")

    def as_dict(self) -> dict[str, int]:
        return {name: sum(getattr(self, name).values()) for name in self.NAMES}

    def merge(self, other: SweepResult) -> None:
        for name in self.NAMES:
            getattr(self, name).update(getattr(other, name))


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
) -> SweepResult:
    """Run every check over the charge points with ids in [first_id, last_id]
    (all when not given)."""
    now = now or timezone.now()
    config = config or health_config_load()
    plan = [(check, group) for reason, check in CHECKS.items() for group in config.groups(reason)]
    context = _Context(windows=maintenance_windows_active(now), flapping=config.flapping)
    _forget_old_flips(now, config.flapping)
    # A site that came back first: its charge points still down file their own.
    site_resolved = site_outages_clear(config, now, first_id, last_id)
    result = _retry_on_deadlock(lambda: _detect_all(plan, now, first_id, last_id, context, config))
    result.resolved[Reason.SITE_OFFLINE] += site_resolved
    for check, group in plan:
        # Open reports are looked after even when the check was switched
        # off since: they still close when the problem is gone.
        _clear(check, group, now, first_id, last_id, config, result)
    return result


def _detect_all(plan, now: datetime, first_id, last_id, context: _Context, config: HealthConfig) -> SweepResult:
    """Every check's detections in one transaction: one commit per sweep
    (or chunk), and every sweep takes its locks in the same order (check,
    then charge point id), so two sweeps at once wait for each other rather
    than deadlock."""
    result = SweepResult()
    with transaction.atomic():
        filed, seen = site_outages_detect(config, now, first_id, last_id, context.windows)
        result.filed[Reason.SITE_OFFLINE] += filed
        result.seen_again[Reason.SITE_OFFLINE] += seen
        context = replace(context, inhibited_sites=frozenset(sites_inhibited(first_id, last_id)))
        for check, group in plan:
            if group.thresholds.enabled:
                _detect(check, group, now, first_id, last_id, result, context)
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


def _detect(check: Check, group: Group, now: datetime, first_id, last_id, result: SweepResult,
            context: _Context) -> None:
    offenders = check.detect(group.thresholds, now, IdRange(first_id, last_id)).filter(group.charge_points())
    rows = list(offenders.order_by("pk").values(*DETAIL_FIELDS))
    for start in range(0, len(rows), SLICE):
        _file(check, group, rows[start : start + SLICE], now, result, context)


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _file(check: Check, group: Group, rows: list[dict], now: datetime, result: SweepResult,
          context: _Context) -> None:
    reason = check.reason
    by_cp = {row["pk"]: row for row in rows}
    cp_ids = sorted(by_cp)
    bumped = _bump(reason, cp_ids, now)
    missing = [cp_id for cp_id in cp_ids if cp_id not in bumped]
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
    # Filed by a concurrent sweep between our UPDATE and INSERT: bump theirs.
    lost = [cp_id for cp_id in missing if cp_id not in created]
    if lost:
        bumped.update(_bump(reason, lost, now))

    # A problem that had cleared on a report a person kept came back. Only
    # the sweep whose conditional update flips the flag writes the note.
    recurred = []
    came_back = [report_id for report_id, cleared_at, _flapping in bumped.values() if cleared_at is not None]
    if came_back:
        recurred = list(
            Report.objects.filter(pk__in=came_back, condition_cleared_at__isnull=False)
            .select_for_update(skip_locked=True)
            .values_list("pk", "charge_point_id", "flapping")
        )
        Report.objects.filter(pk__in=[report_id for report_id, _cp, _f in recurred]).update(condition_cleared_at=None)

    result.seen_again[reason] += len(bumped)
    result.filed[reason] += len(created)
    result.recurred[reason] += len(recurred)

    # A flapping report's episodes come and go quietly: its timeline said so once.
    report_system_events_bulk(report_ids=[report_id for report_id, _cp, flapping in recurred if not flapping],
                              kind=EventKind.RECURRED, note="The problem is back.")
    _record_flips(reason, [cp_id for _r, cp_id, _f in recurred], healthy=False, now=now)
    if created:
        # The new reports' changes to unhealthy, and how often their charge
        # points changed within the window: one statement.
        counts = _record_unhealthy_and_count(reason, list(created), now, context.flapping)
        flappers = [created[cp_id] for cp_id, (flips, _episodes) in counts.items()
                    if cp_id in created and flips > context.flapping.flips]
        if flappers:
            _mark_flapping(flappers, {created[cp_id]: counts[cp_id][1] for cp_id in counts if cp_id in created},
                           context.flapping)
            result.flapping[reason] += len(flappers)


def _db_time(value: datetime):
    # Raw SQL: the value as the backend stores it (SQLite keeps naive UTC text).
    return connection.ops.adapt_datetimefield_value(value)


def _ids_match(column: str, ids: list[int]) -> tuple[str, list]:
    """``column IN (ids)``; on PostgreSQL one array parameter, which a
    thousand placeholders would cost more to send than the query to run."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN ({_placeholders(ids)})", list(ids)


def _bump(reason: str, cp_ids: list[int], now: datetime) -> dict[int, tuple[int, datetime | None, bool]]:
    """Count a repeat detection on the open reports of these charge points
    (on a flapping report, only a new episode counts). Charge point id ->
    (report id, condition_cleared_at, flapping) for those that had one."""
    if not cp_ids:
        return {}
    match, ids = _ids_match("charge_point_id", cp_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Report._meta.db_table} SET occurrences = occurrences + "
            f"CASE WHEN flapping AND condition_cleared_at IS NULL THEN 0 ELSE 1 END, last_seen_at = %s, "
            f"updated_at = %s WHERE source = %s AND reason = %s AND state <> %s "
            f"AND {match} RETURNING charge_point_id, id, condition_cleared_at, flapping",
            [_db_time(now), _db_time(now), Source.SYSTEM, reason, ReportState.RESOLVED, *ids],
        )
        return {cp_id: (report_id, cleared_at, bool(flapping))
                for cp_id, report_id, cleared_at, flapping in cursor.fetchall()}


# --- Flapping ----------------------------------------------------------------------


def _forget_old_flips(now: datetime, flapping: Flapping) -> None:
    HealthFlip.objects.filter(at__lt=now - timedelta(minutes=flapping.window_minutes)).delete()


def _record_flips(reason: str, cp_ids, *, healthy: bool, now: datetime) -> None:
    cp_ids = list(cp_ids)
    if not cp_ids:
        return
    if connection.vendor != "postgresql":
        HealthFlip.objects.bulk_create(
            [HealthFlip(charge_point_id=cp_id, reason=reason, healthy=healthy, at=now) for cp_id in cp_ids]
        )
        return
    # One array parameter: a thousand rows cost less to send than to write.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {HealthFlip._meta.db_table} (charge_point_id, reason, healthy, at) "
            "SELECT cp, %s, %s, %s FROM unnest(%s::bigint[]) AS cp",
            [reason, healthy, _db_time(now), cp_ids],
        )


def _record_unhealthy_and_count(reason: str, cp_ids: list[int], now: datetime, flapping: Flapping
                                ) -> dict[int, tuple[int, int]]:
    """``_record_flips(healthy=False)`` then ``_flip_counts`` for the same
    charge points; on PostgreSQL in one statement (the sweep's first pass
    does this for every report it files)."""
    if connection.vendor != "postgresql":
        _record_flips(reason, cp_ids, healthy=False, now=now)
        return _flip_counts(reason, cp_ids, now, flapping)
    table = HealthFlip._meta.db_table
    with connection.cursor() as cursor:
        # The statement's snapshot does not see its own new rows: each
        # charge point's count is its earlier rows plus the one written.
        cursor.execute(
            f"WITH new AS (INSERT INTO {table} (charge_point_id, reason, healthy, at) "
            "SELECT cp, %s, false, %s FROM unnest(%s::bigint[]) AS cp) "
            "SELECT cp, 1 + count(f.id), 1 + count(f.id) FILTER (WHERE NOT f.healthy) "
            f"FROM unnest(%s::bigint[]) AS cp LEFT JOIN {table} f "
            "ON f.charge_point_id = cp AND f.reason = %s AND f.at >= %s GROUP BY cp",
            [reason, _db_time(now), cp_ids, cp_ids, reason,
             _db_time(now - timedelta(minutes=flapping.window_minutes))],
        )
        return {cp_id: (flips, episodes) for cp_id, flips, episodes in cursor.fetchall()}


def _flip_counts(reason: str, cp_ids: list[int], now: datetime, flapping: Flapping
                 ) -> dict[int, tuple[int, int]]:
    """Charge point id -> (changes, unhealthy changes) within the flapping
    window, for those with any: one grouped query over the flip index."""
    if not cp_ids:
        return {}
    match, ids = _ids_match("charge_point_id", cp_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT charge_point_id, count(*), sum(CASE WHEN healthy THEN 0 ELSE 1 END) "
            f"FROM {HealthFlip._meta.db_table} WHERE reason = %s AND at >= %s AND {match} GROUP BY charge_point_id",
            [reason, _db_time(now - timedelta(minutes=flapping.window_minutes)), *ids],
        )
        return {cp_id: (flips, episodes) for cp_id, flips, episodes in cursor.fetchall()}


def _mark_flapping(report_ids: list[int], episodes: dict[int, int], flapping: Flapping) -> None:
    """Mark these reports flapping; from now on ``occurrences`` counts the
    episodes (those within the window so far)."""
    for count in set(episodes[report_id] for report_id in report_ids):
        Report.objects.filter(pk__in=[r for r in report_ids if episodes[r] == count]).update(
            flapping=True, occurrences=max(count, 1))
    report_system_events_bulk(
        report_ids=report_ids, kind=EventKind.COMMENT,
        note=f"Flapping: the condition came and went more than {flapping.flips} times within "
             f"{flapping.window_minutes} minutes. The report stays open while it clears, counts episodes, "
             f"and resolves once the condition has been gone for {flapping.hold_down_minutes} minutes.",
    )


# --- Clearing ----------------------------------------------------------------------


def _clear(check: Check, group: Group, now: datetime, first_id, last_id, config: HealthConfig,
           result: SweepResult) -> None:
    reason = check.reason
    flapping = config.flapping
    reports = _open_system_reports(reason).filter(
        group.charge_points("charge_point__"), IdRange(first_id, last_id).q("charge_point_id")
    )
    cleared = list(
        check.cleared(reports, group.thresholds, now).values_list(
            "pk", "assigned_to_id", "charge_point__operator_id", "condition_cleared_at", "flapping",
            "charge_point_id",
        )
    )
    note = check.cleared_note(group.thresholds)

    def auto(assigned_to_id, operator_id) -> bool:
        return assigned_to_id is None and config.auto_resolve_for(operator_id)

    # Would resolve now: first ask whether it is flapping (one grouped query).
    would_resolve = [row for row in cleared if not row[4] and auto(row[1], row[2])]
    counts = _flip_counts(reason, [row[5] for row in would_resolve], now, flapping)
    # This clearing is one more change.
    to_flap = {row[0]: row[5] for row in would_resolve if counts.get(row[5], (0, 0))[0] + 1 > flapping.flips}

    stable_since = now - timedelta(minutes=flapping.hold_down_minutes)
    keep, quiet, healthy_cps = [], [], []
    for report_id, assigned_to_id, operator_id, cleared_at, is_flapping, cp_id in cleared:
        if is_flapping:
            if cleared_at is None:
                quiet.append((report_id, cp_id))
            elif cleared_at <= stable_since and auto(assigned_to_id, operator_id):
                if _resolve(report_id, f"{note} Stable for {flapping.hold_down_minutes} minutes after flapping."):
                    result.resolved[reason] += 1
        elif report_id in to_flap:
            quiet.append((report_id, cp_id))
        elif auto(assigned_to_id, operator_id):
            if _resolve(report_id, note):
                result.resolved[reason] += 1
                healthy_cps.append(cp_id)
        elif cleared_at is None:
            keep.append((report_id, cp_id))
    if quiet:
        # Flapping: the condition cleared, the report waits out the hold-down.
        with transaction.atomic():
            flipped = list(
                Report.objects.filter(pk__in=[r for r, _cp in quiet], condition_cleared_at__isnull=True)
                .exclude(state=ReportState.RESOLVED)
                .select_for_update(skip_locked=True)
                .values_list("pk", "charge_point_id")
            )
            Report.objects.filter(pk__in=[r for r, _cp in flipped]).update(condition_cleared_at=now)
            newly = [r for r, _cp in flipped if r in to_flap]
            if newly:
                episodes = {r: counts.get(to_flap[r], (0, 0))[1] for r in newly}
                _mark_flapping(newly, episodes, flapping)
                result.flapping[reason] += len(newly)
            _record_flips(reason, [cp for _r, cp in flipped], healthy=True, now=now)
    if keep:
        with transaction.atomic():
            flipped = list(
                Report.objects.filter(pk__in=[r for r, _cp in keep], condition_cleared_at__isnull=True)
                .exclude(state=ReportState.RESOLVED)
                .select_for_update(skip_locked=True)
                .values_list("pk", "charge_point_id")
            )
            Report.objects.filter(pk__in=[r for r, _cp in flipped]).update(condition_cleared_at=now)
            for report in Report.objects.filter(pk__in=[r for r, _cp in flipped]):
                report_system_event(
                    report=report,
                    kind=EventKind.CONDITION_CLEARED,
                    note=f"{note} The report stays open: a person has it or auto-resolve is off.",
                )
            result.cleared_kept[reason] += len(flipped)
            healthy_cps.extend(cp for _r, cp in flipped)
    _record_flips(reason, healthy_cps, healthy=True, now=now)


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
