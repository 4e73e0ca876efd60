"""Putting outbox rows in line for a worker: ``enqueue_send`` hands
committed rows to the ``notifications.send`` task (a broker that is down
costs nothing: the sweep sends them), ``notifications_queue_for_team``
queues an e-mail that is not about a report (the monthly performance
e-mail) to a team's report contacts, and ``notification_retry`` is
support's "send again" of a failed row.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditAction, Team
from core.tasks import publish
from reporting.models import ReportSettings

from ..models import Notification, NotificationStatus

# Queued by name: the tasks module imports this one, not the other way round.
SEND_TASK = "notifications.send"


def enqueue_send(ids: list[int]) -> None:
    """Hand committed rows to a worker. A broker that is down must not fail
    the request that changed the report: the rows are committed and the
    periodic sweep sends them once the worker runs again."""
    publish(SEND_TASK, ids)


def notifications_queue_for_team(*, team: Team, kind: str, subject: str, body_text: str, body_html: str,
                                  updates_only: bool = True, now: datetime | None = None) -> list[Notification]:
    """Queue one e-mail, not about a report, to each of the team's active
    report contacts (once per address), if the team has e-mail updates on
    (``updates_only``). The rows are the outbox like any other: sent, retried
    and tracked by the sweep. The caller holds the transaction; the rows are
    handed to a worker once it commits."""
    now = now or timezone.now()
    team_settings = ReportSettings.objects.filter(team=team).prefetch_related("contacts").first()
    if team_settings is None or (updates_only and not team_settings.email_updates):
        return []
    contacts = {c.email.lower(): c for c in team_settings.contacts.all() if c.is_active}
    rows = Notification.objects.bulk_create([
        Notification(kind=kind, team=team, contact=contact, recipient_name=contact.name,
                     recipient_email=email, language=team.language, subject=subject[:300], body_text=body_text,
                     body_html=body_html, next_attempt_at=now, created_at=now)
        for email, contact in contacts.items()
    ])
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(lambda: enqueue_send(ids))
    return rows


@transaction.atomic
def notification_retry(*, notification: Notification, by) -> bool:
    """Support's "send again" of a failed row: it becomes pending and due
    now, keeping its Message-ID, and the audit log says who asked.
    Returns False when the row was not failed (it may have been retried
    already from another tab)."""
    now = timezone.now()
    row = Notification.objects.select_for_update().filter(pk=notification.pk).first()
    if row is None or row.status != NotificationStatus.FAILED:
        return False
    updated = Notification.objects.filter(pk=notification.pk, status=NotificationStatus.FAILED).update(
        status=NotificationStatus.PENDING, attempts=0, next_attempt_at=now, updated_at=now
    )
    if updated:
        audit_record(
            by=by,
            action=AuditAction.UPDATE,
            obj=row,
            team=row.team_id,
            changes={
                "status": {"before": row.status, "after": NotificationStatus.PENDING.value},
                "attempts": {"before": row.attempts, "after": 0},
            },
            note=f"Sent again after: {row.last_error}",
        )
        ids = [notification.pk]
        transaction.on_commit(lambda: enqueue_send(ids))
    return bool(updated)
