"""Support's replies in a conversation, e-mailed to the driver through the
outbox, threaded: each e-mail has its own Message-ID (kept on the message,
so the driver's answer can name it), answers the driver's last e-mail
(In-Reply-To, References) and carries the report's reply address
(support+<token>@...)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.urls import reverse
from django.utils.html import escape, linebreaks

from core.tasks import enqueue_on_commit
from reporting.catalogue import Source
from reporting.conversations import report_reply_token
from reporting.models import ReportEvent, ReportMessage

from .models import Notification, NotificationKind

MAX_REFERENCES = 20


def _domain() -> str:
    return settings.SUPPORT_EMAIL_ADDRESS.rpartition("@")[2] or "localhost"


def reply_address(*, token: str) -> str:
    local, _, domain = settings.SUPPORT_EMAIL_ADDRESS.partition("@")
    return f"{local}+{token}@{domain}"


def notification_for_conversation_message(*, event: ReportEvent) -> Notification | None:
    """Write the e-mail for support's newest message on a support report
    whose driver has an e-mail address. Runs in the transaction that added
    the message (reporting.services.timeline._event)."""
    report = event.report
    if report.source != Source.SUPPORT or not report.reporter_email:
        return None
    message = report.messages.order_by("-sent_at", "-id").first()
    if message is None or message.sender != ReportMessage.Sender.SUPPORT or message.email_message_id:
        return None
    message_id = f"<report-{report.pk}.{uuid.uuid4().hex}@{_domain()}>"
    message.email_message_id = message_id
    message.save(update_fields=["email_message_id"])
    thread = list(
        report.messages.exclude(pk=message.pk).exclude(email_message_id="")
        .order_by("-sent_at", "-id").values_list("email_message_id", "sender")[:MAX_REFERENCES]
    )
    headers = {
        "Message-ID": message_id,
        "Reply-To": reply_address(token=report_reply_token(report=report)),
        "From": settings.SUPPORT_EMAIL_ADDRESS,
        # Tells auto-responders (out-of-office) not to answer this e-mail.
        "X-Auto-Response-Suppress": "OOF, AutoReply",
    }
    if thread:
        last_from_driver = next((mid for mid, sender in thread if sender == ReportMessage.Sender.DRIVER), thread[0][0])
        headers["In-Reply-To"] = last_from_driver
        headers["References"] = " ".join(mid for mid, _ in reversed(thread))
    subject = (report.description or "Your message").strip()
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    subject = f"{subject} [#{report.pk}]"
    privacy_url = settings.PUBLIC_REPORT_BASE_URL + reverse("privacy-notice")
    body_text = (
        f"{message.body.strip()}\n\n-- \n{message.author_name}, support (report #{report.pk})\n"
        f"How we handle your data: {privacy_url}\n"
    )
    row = Notification(
        report_id=report.pk,
        event=event,
        kind=NotificationKind.DRIVER_MESSAGE,
        team=None,
        recipient_name=report.reporter_name[:200],
        recipient_email=report.reporter_email.lower(),
        language=settings.LANGUAGE_CODE,
        subject=subject[:300],
        body_text=body_text,
        body_html=f"<!DOCTYPE html><html><body>{linebreaks(escape(body_text))}</body></html>",
        headers=headers,
        next_attempt_at=event.created_at,
    )
    row.save()
    enqueue_on_commit("notifications.send", [row.pk])
    return row
