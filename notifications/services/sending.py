"""Sending outbox rows: one row (``notification_send``: claim, send, record
the provider's id), the rows of one task (``notifications_send_many``) and
the periodic sweep of everything due (``notifications_send_due``).
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import Notification, NotificationStatus
from ..timeline import recipient_label, subject_label, timeline_row
from .claims import _claim
from .failures import PERMANENT_ERRORS, _give_up, _retry_later, is_permanent_smtp_error
from .mail import MailConnection, _message

logger = logging.getLogger(__name__)


# The sweep claims SWEEP_BATCH rows at a time and takes batch after batch
# until nothing is due or settings.NOTIFICATIONS_SWEEP_SECONDS are spent, so
# a backlog drains as fast as the provider accepts. Two sweeps may overlap;
# the claim makes that harmless.
SWEEP_BATCH = 200


def notification_send(
    *,
    notification_id: int,
    now: datetime | None = None,
    due_by: datetime | None = None,
    mail: MailConnection | None = None,
) -> str | None:
    """Send one row if it is due and nobody else holds it. Returns the row's
    new status, or ``None`` when there was nothing to do.

    Delivery guarantee, and why: a row is claimed before it is sent, so two
    workers never send it at once, and a sent row is never claimed again.
    What remains is the gap between the provider accepting the e-mail and
    this process recording it: if the worker dies there, or the provider
    times out after accepting, the row is sent again (after the lease, or
    as a retry). We chose that at-least-once behaviour over at-most-once
    deliberately: the alternative, treating an unknown outcome as sent,
    silently loses the e-mail that tells a team about a broken charger,
    while the duplicate only happens on a crash or timeout inside one HTTP
    request. Everything we can control (concurrent workers, redelivered
    tasks, the sweep racing the task) sends exactly once.

    ``mail``: an open connection to reuse (a sweep's batch); without it the
    send opens and closes its own.
    """
    now = now or timezone.now()
    claimed = _claim(notification_id=notification_id, now=now, due_by=due_by)
    if claimed is None:  # not due, taken by another worker, or deleted with its report
        return None
    token, notification = claimed
    own = mail is None
    mail = mail or MailConnection()
    try:
        # A misconfigured backend fails here; like a provider error, it is
        # retried with backoff and shows in the outbox's last error.
        connection = mail.get()
        message = _message(notification, connection)
        message.send()
    except PERMANENT_ERRORS as error:
        return _give_up(notification, token=token, error=error)
    except Exception as error:  # provider errors, timeouts, refused connections
        mail.discard()
        if is_permanent_smtp_error(error):
            return _give_up(notification, token=token, error=error)
        return _retry_later(notification, token=token, error=error, now=now)
    finally:
        if own:
            mail.discard()
    status = getattr(message, "anymail_status", None)
    # The provider's id when it gives one (its tracking events use it);
    # otherwise (SMTP) the Message-ID we sent, which bounces quote.
    message_id = (status.message_id if status is not None else None) or message.extra_headers["Message-ID"]
    esp_name = getattr(connection, "esp_name", "") or type(connection).__module__.rsplit(".", 1)[-1]
    return _mark_sent(notification, token=token, message_id=message_id, esp_name=esp_name)


@transaction.atomic
def _mark_sent(notification: Notification, *, token: uuid.UUID, message_id, esp_name: str) -> str:
    now = timezone.now()
    updated = Notification.objects.filter(
        pk=notification.pk, status=NotificationStatus.SENDING, claim_token=token
    ).update(
        status=NotificationStatus.SENT,
        message_id="" if message_id is None else str(message_id),
        esp_name=esp_name,
        sent_at=now,
        claim_token=None,
        claimed_until=None,
        last_error="",
        updated_at=now,
    )
    if updated != 1:
        # Only possible when this send outlived its lease (see lease()).
        logger.error("Notification %s was sent after its lease expired.", notification.pk)
        return NotificationStatus.SENT
    timeline_row(
        notification,
        f"E-mailed {recipient_label(notification)} about {subject_label(notification)}.",
    )
    return NotificationStatus.SENT


def notifications_send_many(*, notification_ids: list[int]) -> dict[str, int]:
    """Send each row (the on-commit task); returns how many ended in each status."""
    counts: dict[str, int] = {}
    with MailConnection() as mail:
        for notification_id in notification_ids:
            status = notification_send(notification_id=notification_id, mail=mail) or "skipped"
            counts[status] = counts.get(status, 0) + 1
    return counts


def notifications_send_due(
    *, now: datetime | None = None, batch: int = SWEEP_BATCH, budget_seconds: float | None = None
) -> dict[str, int]:
    """The periodic sweep: send every row that is due (lost tasks, retries
    whose backoff is over, expired leases), oldest first, batch after batch
    until nothing is due or the time budget is spent.
    Safe to run while another sweep or task runs: each row is claimed first.

    A retry falls due one backoff after the attempt that failed, which is a
    moment after the sweep that made it started; the next sweep starts a
    little less than a minute later. So that the next sweep, not the one
    after, sends it, a sweep also takes rows due within
    NOTIFICATIONS_SWEEP_TOLERANCE_SECONDS from its start."""
    started = time.monotonic()
    budget = settings.NOTIFICATIONS_SWEEP_SECONDS if budget_seconds is None else budget_seconds
    fixed_now = now
    counts: dict[str, int] = {}
    # Each pass takes what is due now: a row just tried is not due again
    # (sent, failed, or retried at least a minute later; the tolerance is
    # shorter than the first backoff), so the loop ends when the backlog does.
    while time.monotonic() - started < budget:
        now = fixed_now or timezone.now()
        due_by = now + timedelta(seconds=settings.NOTIFICATIONS_SWEEP_TOLERANCE_SECONDS)
        ids = list(
            Notification.objects.due(now=now, due_by=due_by)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        with MailConnection() as mail:
            for notification_id in ids:
                if time.monotonic() - started > budget:
                    break
                # Each claim takes the clock at the claim (fixed_now only in
                # tests): a lease dated from the batch's start would run out
                # while the batch is still sending, and another sweep would
                # take the row and send it at the same time.
                status = (
                    notification_send(notification_id=notification_id, now=fixed_now, due_by=due_by, mail=mail)
                    or "skipped"
                )
                counts[status] = counts.get(status, 0) + 1
    return counts
