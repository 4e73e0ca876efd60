"""Writes on the outbox: which e-mails a report event causes, sending them
exactly once, retrying, and recording what the provider says afterwards.

How a notification travels:

1. A report change writes its timeline row (``ReportEvent``) and, on commit,
   queues the ``notifications.process_events`` task by name. The timeline
   is the outbox: ``notifications_process_events`` (``notifications/events.py``)
   claims unprocessed rows and, in the same transaction, writes one
   ``Notification`` row per recipient (``notifications_for_report_events``).
   A lost task costs nothing: the periodic sweep processes what is left.
2. On commit, the ids go to the ``notifications_send`` Celery task. If the
   broker is unreachable the rows simply wait: nothing is lost.
3. ``notification_send`` claims a row with a conditional UPDATE
   (pending -> sending, with a fresh claim token and a lease), sends it, and
   marks it sent with the provider's message id. A second worker holding the
   same id finds the row already claimed and leaves it alone.
4. Every minute ``notifications_send_due`` (Celery beat) sends what is due:
   rows whose task was lost, retries whose backoff is over, and rows whose
   worker died mid-send (lease expired).
5. The provider's tracking webhook reports delivered / bounced / complained
   through ``notification_record_tracking``.
"""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
from datetime import datetime, timedelta

from anymail.exceptions import (
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailUnsupportedFeature,
)
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditAction, Team
from core.tasks import publish
from reporting.models import ReportSettings

from .models import Notification, NotificationStatus
from .timeline import recipient_label, subject_label, timeline_row

logger = logging.getLogger(__name__)

# A claimed row belongs to its worker for settings.NOTIFICATIONS_LEASE_SECONDS
# (notifications/checks.py refuses a lease shorter than one attempt can take),
# so only a dead worker loses its lease, and its rows go out again at the
# first sweep after the lease.
# Retries: 1, 2, 4, ... minutes (settings.NOTIFICATIONS_FIRST_BACKOFF_SECONDS
# doubling), at most an hour apart; after MAX_ATTEMPTS (about ten hours of a
# provider being down) the row is failed and shows up in support's outbox
# with a retry action.
MAX_BACKOFF = timedelta(hours=1)
MAX_ATTEMPTS = 15
# The sweep claims SWEEP_BATCH rows at a time and takes batch after batch
# until nothing is due or settings.NOTIFICATIONS_SWEEP_SECONDS are spent, so
# a backlog drains as fast as the provider accepts. Two sweeps may overlap;
# the claim makes that harmless.
SWEEP_BATCH = 200
# Header naming the outbox row, so a repeat is recognisable by a receiver
# that ignores Message-ID, and by our own inbound mail.
NOTIFICATION_ID_HEADER = "X-Report-Notification-Id"

# Queued by name: the tasks module imports this one, not the other way round.
SEND_TASK = "notifications.send"

# Errors that no retry can fix: the address itself is refused or malformed.
PERMANENT_ERRORS = (AnymailRecipientsRefused, AnymailInvalidAddress, AnymailUnsupportedFeature)


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


# --- 2. Sending ----------------------------------------------------------------


def lease() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)


def first_backoff() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATIONS_FIRST_BACKOFF_SECONDS)


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


class MailConnection:
    """One connection to the mail server (or provider) for a run of sends:
    a sweep of a backlog talks to the SMTP server once per batch, not once
    per e-mail. After any failed send the connection is dropped and the next
    send opens a new one, so one broken conversation never spoils the next
    e-mail. Use as a context manager."""

    def __init__(self) -> None:
        self._connection = None

    def get(self):
        if self._connection is None:
            connection = get_connection()
            connection.open()
            self._connection = connection
        return self._connection

    def discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # already broken: that is why it is discarded
                logger.debug("Closing a broken mail connection failed.", exc_info=True)

    def __enter__(self) -> MailConnection:
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()


def make_message_id(*, notification_id: int) -> str:
    """An RFC 5322 Message-ID naming the row; the random part keeps it unique
    across databases (a restored backup, a staging copy)."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"
    return f"<notification-{notification_id}.{uuid.uuid4().hex}@{domain}>"


def _message(notification: Notification, connection) -> EmailMultiAlternatives:
    headers = dict(notification.headers or {})
    headers["Message-ID"] = notification.email_message_id or headers.get("Message-ID") or make_message_id(
        notification_id=notification.pk
    )
    headers[NOTIFICATION_ID_HEADER] = str(notification.pk)
    reply_to = headers.pop("Reply-To", None)
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        from_email=headers.pop("From", None) or settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        connection=connection,
        reply_to=[reply_to] if reply_to else None,
        headers=headers or None,
    )
    message.attach_alternative(notification.body_html, "text/html")
    # anymail passes these to the provider and gets them back in tracking
    # events: the id finds the row when a provider's message id is missing.
    message.metadata = {"notification_id": str(notification.pk), "report_id": str(notification.report_id or "")}
    message.tags = [f"report-{notification.kind}"]
    return message


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


