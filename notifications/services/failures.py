"""When a send fails: which errors no retry can fix, the backoff before
the next attempt, and the row left pending for a retry or failed for good
(with a timeline row saying so).
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from datetime import datetime, timedelta

from anymail.exceptions import (
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailUnsupportedFeature,
)
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import Notification, NotificationStatus
from ..timeline import recipient_label, subject_label, timeline_row

logger = logging.getLogger(__name__)


# Retries: 1, 2, 4, ... minutes (settings.NOTIFICATIONS_FIRST_BACKOFF_SECONDS
# doubling), at most an hour apart; after MAX_ATTEMPTS (about ten hours of a
# provider being down) the row is failed and shows up in support's outbox
# with a retry action.
MAX_BACKOFF = timedelta(hours=1)
MAX_ATTEMPTS = 15


# Errors that no retry can fix: the address itself is refused or malformed.
PERMANENT_ERRORS = (AnymailRecipientsRefused, AnymailInvalidAddress, AnymailUnsupportedFeature)


def first_backoff() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATIONS_FIRST_BACKOFF_SECONDS)


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1, 2, 4, ... minutes, capped."""
    return min(first_backoff() * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def is_permanent_smtp_error(error: Exception) -> bool:
    """An SMTP server's 5xx about this e-mail (no such mailbox, message
    refused): no retry can change the answer. A 4xx is temporary. Refusals
    of our own login or sender address are 5xx too, but they are our
    configuration, not this e-mail: those are retried, so the backlog goes
    out once the setting is fixed."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPAuthenticationError | smtplib.SMTPSenderRefused):
        return False
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = "; ".join(
            f"{address}: {code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
            for address, (code, reply) in error.recipients.items()
        )
        return f"SMTPRecipientsRefused: {answers}"[:2000]
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{type(error).__name__}: {error.smtp_code} {reply}"[:2000]
    text = str(error).strip() or type(error).__name__
    return f"{type(error).__name__}: {text}"[:2000]


@transaction.atomic
def _retry_later(notification: Notification, *, token: uuid.UUID, error: Exception, now: datetime) -> str:
    row = Notification.objects.select_for_update().get(pk=notification.pk)
    if row.status != NotificationStatus.SENDING or row.claim_token != token:
        return row.status
    if row.attempts >= MAX_ATTEMPTS:
        return _give_up(row, token=token, error=error)
    logger.warning("Notification %s attempt %s failed: %s", row.pk, row.attempts, error)
    row.status = NotificationStatus.PENDING
    row.next_attempt_at = now + backoff(row.attempts)
    row.claim_token = None
    row.claimed_until = None
    row.last_error = _describe(error)
    row.save(
        update_fields=["status", "next_attempt_at", "claim_token", "claimed_until", "last_error", "updated_at"]
    )
    return row.status


@transaction.atomic
def _give_up(notification: Notification, *, token: uuid.UUID, error: Exception) -> str:
    now = timezone.now()
    updated = Notification.objects.filter(
        pk=notification.pk, status=NotificationStatus.SENDING, claim_token=token
    ).update(
        status=NotificationStatus.FAILED,
        claim_token=None,
        claimed_until=None,
        last_error=_describe(error),
        updated_at=now,
    )
    if updated == 1:
        logger.error("Notification %s failed for good: %s", notification.pk, error)
        timeline_row(
            notification,
            f"Could not e-mail {recipient_label(notification)} about {subject_label(notification)}: {_describe(error)}",
        )
    return NotificationStatus.FAILED
