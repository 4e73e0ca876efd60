"""The report timeline: every service writes its ``ReportEvent`` row through
``_event`` (or, for the health checks' bulk filing, ``report_system_events_bulk``).
The timeline row is the outbox: once it commits, the notifications app
decides who hears of it, and ``reporting.hooks`` tells the listeners
(webhooks) in the same transaction.
"""

from __future__ import annotations

from django.utils import timezone

from accounts.models import User
from accounts.permissions import Actor
from core.tasks import enqueue_on_commit

from ..bulk_sql import insert_events
from ..hooks import timeline_written
from ..models import Report, ReportEvent

SYSTEM_LABEL = "System"



# The task that processes new timeline rows (defined by the notifications app,
# which reads this app's models; named here so this app imports none of it).
EVENTS_TASK = "notifications.process_events"



def actor_label(actor: Actor | None) -> str:
    if actor is None:
        return SYSTEM_LABEL
    return getattr(actor, "actor_label", None) or str(actor)



def _event(report: Report, *, kind: str, by: Actor | None, **fields) -> ReportEvent:
    event = ReportEvent.objects.create(
        report=report,
        kind=kind,
        actor=by if isinstance(by, User) else None,
        actor_label=actor_label(by),
        **fields,
    )
    # The timeline row is the outbox: once it commits, the notifications
    # app decides who hears of it (see ``ReportEvent.processed_at``).
    enqueue_on_commit(EVENTS_TASK)
    timeline_written(event_ids=[event.pk], kind=kind)
    return event



def report_system_event(*, report: Report, kind: str, note: str = "", **fields) -> ReportEvent:
    """A timeline row the health checks write on a report they filed or
    watch (created in bulk, detected again, condition cleared), exactly as a
    change through the other services. The caller holds the transaction."""
    return _event(report, kind=kind, by=None, note=note, **fields)



def report_timeline_note(*, report: Report, by: Actor | None, kind: str, note: str) -> ReportEvent:
    """A timeline row about something done to the report's charge point from
    the report's page (a higher app's action, e.g. a remote command): by the
    person or key that did it. The caller checked their right to do it."""
    return _event(report, kind=kind, by=by, note=note)



def report_system_events_bulk(*, report_ids: list[int], kind: str, note: str = "", **fields) -> int:
    """The bulk twin of ``_event`` for the health checks, which may file a
    thousand reports in one sweep: the timeline rows in one statement (by
    the system), whatever the number of teams with contacts. Keep it in step
    with ``_event``. The caller holds the transaction. Returns the rows written."""
    if not report_ids:
        return 0
    event_ids = insert_events(report_ids, system_event_row(kind=kind, note=note, **fields))
    system_events_written(event_ids=list(event_ids.values()), kind=kind)
    return len(event_ids)


def system_event_row(*, kind: str, note: str = "", **fields) -> dict:
    """The columns of a timeline row by the system, as ``_event`` writes them."""
    row = {"kind": kind, "actor_label": actor_label(None), "note": note, "created_at": timezone.now(), **fields}
    for name in ("from_state", "to_state", "from_party", "to_party"):
        row.setdefault(name, "")
    return row


def system_events_written(*, event_ids: list[int], kind: str) -> None:
    """After timeline rows were written in bulk: what ``_event`` does after
    its one row (the outbox's task on commit, the listeners now)."""
    if event_ids:
        enqueue_on_commit(EVENTS_TASK)
        timeline_written(event_ids=event_ids, kind=kind)
