"""The e-mail itself: its Message-ID, the headers that name the outbox
row, and one connection to the mail server for a run of sends.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from ..models import Notification

logger = logging.getLogger(__name__)


# Header naming the outbox row, so a repeat is recognisable by a receiver
# that ignores Message-ID, and by our own inbound mail.
NOTIFICATION_ID_HEADER = "X-Report-Notification-Id"


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
