"""Writes of the response-time targets (docs/response-targets.md): saving
a team's or the default targets, and the minutely check that records the
targets reports have missed, each once. Reading is ``response_targets``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.audit import audit_diff, audit_record, audit_snapshot
from accounts.models import AuditAction
from accounts.permissions import Capability, can_on_team, is_support
from core.errors import Invalid, NotAllowed
from core.tasks import enqueue_on_commit

from .catalogue import Party
from .models import EventKind, Report, ReportEvent, ReportState
from .response_targets import (
    _pending,
    format_duration,
    response_targets_effective,
    target_groups,
    with_due_times,
)
from .services.timeline import EVENTS_TASK
from .services.transitions import report_assign
from .settings_models import BreachKind, ResponseBreach, ResponseTarget, TargetEscalation

TARGET_FIELDS = ["time_to_assign", "time_to_resolve", "escalation", "escalate_to"]
TIMELINE_LABEL = "Response-time targets"


# --- services --------------------------------------------------------------------


def response_target_validate(target: ResponseTarget) -> None:
    for field in ("time_to_assign", "time_to_resolve"):
        value = getattr(target, field)
        if value is not None and value <= timedelta(0):
            raise Invalid("A target is a positive time.", field=field)
    if target.escalation == TargetEscalation.REASSIGN and target.escalate_to not in Party.values:
        raise Invalid("Name the party a missed target re-assigns the report to.", field="escalate_to")
    if target.escalation != TargetEscalation.REASSIGN:
        target.escalate_to = ""


def _require_edit(by, target: ResponseTarget) -> None:
    if target.team_id is None:
        if not is_support(by):
            raise NotAllowed("Only support staff set the default response-time targets.")
    elif not can_on_team(by, Capability.EDIT_ASSETS, team_id=target.team_id):
        raise NotAllowed("You need the admin role in this team to change its response-time targets.")


@transaction.atomic
def response_target_save(*, target: ResponseTarget, by) -> ResponseTarget:
    """Save a target as its form left it: support for the defaults and any
    team's, a team's admins for their own. Audited."""
    _require_edit(by, target)
    response_target_validate(target)
    created = target.pk is None
    if not created:
        stored = ResponseTarget.objects.select_for_update().get(pk=target.pk)
        _require_edit(by, stored)  # a team's admin cannot move a row to another team
        before = audit_snapshot(stored, TARGET_FIELDS)
    else:
        before = {}
    target.save()
    audit_record(by=by, action=AuditAction.CREATE if created else AuditAction.UPDATE, obj=target,
                 team=target.team_id, changes=audit_diff(before, audit_snapshot(target, TARGET_FIELDS)))
    return target


@transaction.atomic
def response_target_delete(*, target: ResponseTarget, by) -> None:
    _require_edit(by, target)
    audit_record(by=by, action=AuditAction.DELETE, obj=target, team=target.team_id,
                 changes=audit_diff(audit_snapshot(target, TARGET_FIELDS), {}))
    target.delete()


def _breach_candidates(
    kind: str, group: Q, limit: timedelta, *, now: datetime, after: int, batch: int
) -> list[tuple[int, datetime]]:
    """The next ``batch`` reports of ``group`` past due and not yet recorded,
    by id from ``after`` (the batches of one check walk the reports once),
    with their due time."""
    already = ResponseBreach.objects.filter(report_id=OuterRef("pk"), kind=kind)
    rows = (
        Report.objects.filter(group & _pending(kind), created_at__lte=now - limit, pk__gt=after)
        .exclude(Exists(already))
        .order_by("id")
        .values_list("id", "created_at")[:batch]
    )
    return [(report_id, created_at + limit) for report_id, created_at in rows]


def _record(kind: str, candidates: list[tuple[int, datetime]], *, now: datetime) -> list[int]:
    """Insert the breaches; returns the report ids whose row went in here."""
    if not candidates:
        return []
    table = ResponseBreach._meta.db_table
    prep = ResponseBreach._meta.get_field("breached_at").get_db_prep_save
    values, params = [], []
    for report_id, due_at in candidates:
        values.append("(%s, %s, %s, %s, %s, %s)")
        params += [report_id, kind, prep(due_at, connection), prep(now, connection), TargetEscalation.NONE, ""]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (report_id, kind, due_at, breached_at, escalation, escalate_to) "
            f"VALUES {', '.join(values)} ON CONFLICT (report_id, kind) DO NOTHING RETURNING report_id",
            params,
        )
        return sorted(row[0] for row in cursor.fetchall())


def response_targets_check(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Record every breach not yet recorded: a timeline row each (e-mailed to
    the team's contacts by the notifications outbox) and the escalation its
    target asks for. Safe to run twice at once: each breach is recorded once."""
    now = now or timezone.now()
    counts = {BreachKind.ASSIGN.value: 0, BreachKind.RESOLVE.value: 0, "reassigned": 0}
    for kind in (BreachKind.ASSIGN, BreachKind.RESOLVE):
        for group, limit in target_groups(kind):
            after = 0
            while True:
                with transaction.atomic():
                    candidates = _breach_candidates(kind, group, limit, now=now, after=after, batch=batch)
                    mine = _record(kind, candidates, now=now)
                    if mine:
                        counts["reassigned"] += _after_breach(kind, mine, now=now, assign=report_assign)
                    counts[kind.value] += len(mine)
                if len(candidates) < batch:
                    break
                after = candidates[-1][0]
    return counts


def _after_breach(kind: str, report_ids: list[int], *, now: datetime, assign) -> int:
    """The timeline rows of the breaches just recorded (one statement), their
    escalation noted on the breach rows (one statement), then the re-assigns
    a target asks for (one service call each)."""
    reports = with_due_times(Report.objects.filter(pk__in=report_ids).select_related("charge_point")).in_bulk()
    rows = list(ResponseTarget.objects.all())
    targets: dict = {}
    label = "time to assign" if kind == BreachKind.ASSIGN else "time to resolve"
    events, chosen = [], {}
    for report_id in report_ids:
        report = reports[report_id]
        team_id = report.charge_point.operator_id if report.charge_point_id else None
        if team_id not in targets:
            targets[team_id] = response_targets_effective(team_id=team_id, rows=rows)
        target = chosen[report_id] = targets[team_id][report.source]
        limit = report.assign_target if kind == BreachKind.ASSIGN else report.resolve_target
        due = report.assign_due if kind == BreachKind.ASSIGN else report.resolve_due
        events.append(ReportEvent(
            report_id=report_id,
            kind=EventKind.TARGET_MISSED,
            actor_label=TIMELINE_LABEL,
            to_party=Party.SUPPORT if target["escalation"] == TargetEscalation.NOTIFY_SUPPORT else "",
            note=f"Missed the {label} of {format_duration(limit)}: it was due {due:%Y-%m-%d %H:%M} UTC.",
            created_at=now,
        ))
    event_ids = {event.report_id: event.pk for event in ReportEvent.objects.bulk_create(events)}
    breaches = list(ResponseBreach.objects.filter(report_id__in=report_ids, kind=kind))
    for breach in breaches:
        breach.event_id = event_ids[breach.report_id]
        breach.escalation = chosen[breach.report_id]["escalation"]
        breach.escalate_to = chosen[breach.report_id]["escalate_to"]
    ResponseBreach.objects.bulk_update(breaches, ["event", "escalation", "escalate_to"])
    # The timeline rows are the outbox: the notifications app e-mails them.
    enqueue_on_commit(EVENTS_TASK)
    reassigned = 0
    for report_id in report_ids:
        report, party = reports[report_id], chosen[report_id]["escalate_to"]
        if chosen[report_id]["escalation"] == TargetEscalation.REASSIGN and party and (
            report.assigned_party != party or report.state == ReportState.OPEN
        ):
            assign(report=report, party=party, by=None, note=f"Re-assigned: the {label} was missed.")
            reassigned += 1
    return reassigned
