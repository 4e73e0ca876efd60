"""Clearing: the open system reports whose condition is gone. Each is
resolved by the system when nobody has it and the operator's team lets the
checks resolve, kept open with a "condition cleared" note otherwise, or,
when flapping, held until the condition stays gone for the hold-down."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction

from reporting.models import EventKind, Report, ReportState
from reporting.services import report_resolve, report_system_event

from .checks import Check, IdRange, ids_in, open_system_reports
from .flapping import flip_counts, mark_flapping, record_flips
from .result import SweepResult
from .thresholds import Group, HealthConfig


def clear_gone(check: Check, group: Group, now: datetime, scope: IdRange, config: HealthConfig,
               result: SweepResult, *, in_trouble: set[int] = frozenset()) -> None:
    """``in_trouble``: charge points the same sweep just found in trouble for
    this reason. Every check's ``cleared`` is the opposite of its
    ``detect`` at the same moment (in the state or not; failed charges in the
    window or none; readings all weak or none weak), so their reports are
    not looked at (on PostgreSQL, as one array; a first pass at 1M files
    10,000 reports and would otherwise test each for clearing)."""
    reason = check.reason
    flapping = config.flapping
    reports = open_system_reports(reason).filter(group.charge_points("charge_point__"), scope.q("charge_point_id"))
    if in_trouble and connection.vendor == "postgresql":
        reports = reports.exclude(charge_point_id__in=ids_in(in_trouble))
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
    counts = flip_counts(reason, [row[5] for row in would_resolve], now, flapping)
    # This clearing is one more change.
    to_flap = {row[0]: row[5] for row in would_resolve if counts.get(row[5], (0, 0))[0] + 1 > flapping.flips}

    stable_since = now - timedelta(minutes=flapping.hold_down_minutes)
    keep, quiet, healthy_cps = [], [], []
    for report_id, assigned_to_id, operator_id, cleared_at, is_flapping, cp_id in cleared:
        if is_flapping:
            if cleared_at is None:
                quiet.append((report_id, cp_id))
            elif cleared_at <= stable_since and auto(assigned_to_id, operator_id):
                if resolve_quietly(report_id, f"{note} Stable for {flapping.hold_down_minutes} minutes after flapping."):
                    result.resolved[reason] += 1
        elif report_id in to_flap:
            quiet.append((report_id, cp_id))
        elif auto(assigned_to_id, operator_id):
            if resolve_quietly(report_id, note):
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
                mark_flapping(newly, episodes, flapping)
                result.flapping[reason] += len(newly)
            record_flips(reason, [cp for _r, cp in flipped], healthy=True, now=now)
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
    record_flips(reason, healthy_cps, healthy=True, now=now)


def resolve_quietly(report_id: int, note: str) -> bool:
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
