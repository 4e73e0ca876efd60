"""Putting outbox rows in line for a worker: ``enqueue_send`` hands
committed rows to the ``notifications.send`` task (a broker that is down
costs nothing: the sweep sends them), and ``notification_retry`` is
support's "send again" of a failed row.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditAction
from core.tasks import publish

from ..models import Notification, NotificationStatus

# Queued by name: the tasks module imports this one, not the other way round.
SEND_TASK = "notifications.send"


def enqueue_send(ids: list[int]) -> None:
    """Hand committed rows to a worker. A broker that is down must not fail
    the request that changed the report: the rows are committed and the
    periodic sweep sends them once the worker runs again."""
    publish(SEND_TASK, ids)


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
