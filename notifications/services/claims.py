"""Claiming a row for sending: a conditional UPDATE (pending -> sending,
with a fresh claim token and a lease) that only one worker can win, and
the row's Message-ID, fixed at the first claim.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import Notification, NotificationStatus
from .mail import make_message_id


# A claimed row belongs to its worker for settings.NOTIFICATIONS_LEASE_SECONDS
# (notifications/checks.py refuses a lease shorter than one attempt can take),
# so only a dead worker loses its lease, and its rows go out again at the
# first sweep after the lease.
def lease() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)


def notification_claim(
    *, notification_id: int, now: datetime | None = None, due_by: datetime | None = None
) -> uuid.UUID | None:
    """Take a row for sending; ``None`` when it is not due or another worker
    got there first. The UPDATE is the lock: its WHERE clause only matches
    a row nobody holds, and the database lets exactly one UPDATE match it.

    The first claim also gives the row its Message-ID, committed before the
    first attempt: every retry, whoever makes it, sends the same one."""
    claimed = _claim(notification_id=notification_id, now=now or timezone.now(), due_by=due_by)
    return claimed[0] if claimed else None


@transaction.atomic
def _claim(
    *, notification_id: int, now: datetime, due_by: datetime | None
) -> tuple[uuid.UUID, Notification] | None:
    """The claim, the Message-ID and the row to send, in one transaction
    (one commit: a backlog drains at a few commits per row, not per query)."""
    token = uuid.uuid4()
    claimed = (
        Notification.objects.due(now=now, due_by=due_by)
        .filter(pk=notification_id)
        .update(
            status=NotificationStatus.SENDING,
            claim_token=token,
            claimed_until=now + lease(),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    if claimed != 1:
        return None
    row = Notification.objects.select_related("team").filter(pk=notification_id).first()
    if row is None:
        return None
    if not row.email_message_id:
        # A conversation's e-mail already has its Message-ID (it threads).
        row.email_message_id = (row.headers or {}).get("Message-ID") or make_message_id(
            notification_id=notification_id
        )
        Notification.objects.filter(pk=notification_id, email_message_id="").update(
            email_message_id=row.email_message_id
        )
    return token, row
