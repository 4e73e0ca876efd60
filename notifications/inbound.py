"""Inbound e-mail to the support address (anymail's inbound signal, from
Postmark's inbound webhook): a driver's new e-mail opens a support report,
a reply is appended to its conversation. Automatic mail (out-of-office
replies, bounces, mailing lists) is dropped, so two robots never answer
each other in a loop.

Repeats are recognised by Message-ID: the same e-mail delivered twice (a
webhook retried, a message that reached two of our addresses) is stored
once, and a copy of an e-mail we sent ourselves (a contact's mailbox that
forwards to the support address, a notification to an address that is our
own) is recognised by its Message-ID or its X-Report-Notification-Id header
and never opens a report."""

from __future__ import annotations

import logging
import re
from email.utils import parseaddr

from anymail.inbound import AnymailInboundMessage
from django.conf import settings
from django.db.models import Q
from django.utils.html import strip_tags

from reporting.conversations import (
    InboundEmail,
    report_add_email_reply,
    report_by_conversation,
    report_open_conversation_by_email,
)
from reporting.reporters import Upload

from .models import Notification
from .services.mail import NOTIFICATION_ID_HEADER

logger = logging.getLogger(__name__)

AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
ROBOT_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+@]|$)", re.I)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
MAX_BODY_CHARS = 20_000


def automatic_reason(message: AnymailInboundMessage) -> str | None:
    """Why the e-mail is machine-made (so it must not be answered), or None."""
    auto = (message.get("Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = (message.get("Precedence") or "").strip().lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if message.get(header):
            return header
    if message.get("List-Id") or message.get("List-Unsubscribe"):
        return "a mailing list"
    if message.get_content_type() == "multipart/report":
        return "a delivery report"
    if getattr(message, "envelope_sender", None) == "":
        return "an empty envelope sender (a bounce)"
    sender = message.from_email.addr_spec if message.from_email else ""
    if not sender or ROBOT_SENDERS.match(sender):
        return f"sender {sender or 'missing'}"
    return None


def own_outbound(message: AnymailInboundMessage) -> int | None:
    """The outbox row an inbound e-mail is a copy of, or None. Our e-mails
    carry the row's Message-ID (the same on every retry) and its
    X-Report-Notification-Id; a reply or an inline forward gets a new
    Message-ID and never keeps the X- header, so either one means the
    e-mail itself came back."""
    message_id = (message.get("Message-ID") or "").strip()[:255]
    row_id = (message.get(NOTIFICATION_ID_HEADER) or "").strip()
    match = Q()
    if message_id:
        match |= Q(email_message_id=message_id)
    if row_id.isdigit() and len(row_id) < 19:
        match |= Q(pk=int(row_id))
    if not match:
        return None
    return Notification.objects.filter(match).values_list("pk", flat=True).first()


def _reply_token(message: AnymailInboundMessage) -> str:
    """The token in support+<token>@domain among the addresses it was sent to."""
    local, _, domain = settings.SUPPORT_EMAIL_ADDRESS.lower().partition("@")
    addresses = [a.addr_spec for a in [*message.to, *message.cc]]
    addresses.append(getattr(message, "envelope_recipient", None) or "")
    for address in addresses:
        name, _, at = parseaddr(address)[1].lower().partition("@")
        if at == domain and name.startswith(f"{local}+"):
            token = name[len(local) + 1:]
            if re.fullmatch(r"[0-9a-f]{8,40}", token):
                return token
    return ""


def _message_ids(message: AnymailInboundMessage) -> list[str]:
    text = " ".join(filter(None, [message.get("In-Reply-To"), message.get("References")]))
    return list(dict.fromkeys(_MESSAGE_ID.findall(text)))


def _body(message: AnymailInboundMessage, *, is_reply: bool) -> str:
    # For a reply, Postmark's stripped text leaves out the quoted thread.
    text = (getattr(message, "stripped_text", None) if is_reply else None) or message.text
    if not text and message.html:
        text = strip_tags(message.html)
    return (text or "").replace("\x00", "").strip()[:MAX_BODY_CHARS]


def _attachments(message: AnymailInboundMessage) -> tuple[list[Upload], list[str]]:
    limits = settings.INBOUND_EMAIL
    kept, refused = [], []
    for part in message.attachments:
        name = (part.get_filename() or "attachment")[:200]
        content_type = part.get_content_type()
        content = part.get_content_bytes() or b""
        if content_type not in limits["attachment_types"]:
            refused.append(f"{name}: the type {content_type} is not accepted")
        elif len(content) > limits["max_attachment_bytes"]:
            refused.append(f"{name}: larger than {limits['max_attachment_bytes'] // (1024 * 1024)} MB")
        elif not content:
            refused.append(f"{name}: empty")
        elif len(kept) >= limits["max_attachments"]:
            refused.append(f"{name}: more than {limits['max_attachments']} attachments")
        else:
            kept.append(Upload(content=content, filename=name, content_type=content_type))
    return kept, refused


def inbound_email_receive(*, message: AnymailInboundMessage) -> str:
    """Handle one inbound e-mail; returns what was done (for the log and tests):
    "own" (a copy of an e-mail we sent), "ignored", "duplicate" (an e-mail
    already stored), "reply" or "opened"."""
    own = own_outbound(message)
    if own is not None:
        logger.info("Inbound e-mail %s ignored: a copy of our own notification %s.", message.get("Message-ID"), own)
        return "own"
    why = automatic_reason(message)
    if why is not None:
        logger.info("Inbound e-mail %s ignored: %s.", message.get("Message-ID"), why)
        return "ignored"
    report = report_by_conversation(reply_token=_reply_token(message), message_ids=_message_ids(message))
    kept, refused = _attachments(message)
    sender = message.from_email
    email = InboundEmail(
        from_email=sender.addr_spec.lower(),
        from_name=(sender.display_name or "").strip(),
        subject=(message.subject or "").replace("\x00", "").strip(),
        body=_body(message, is_reply=report is not None),
        message_id=(message.get("Message-ID") or "").strip(),
        attachments=tuple(kept),
        refused_attachments=tuple(refused),
    )
    if report is not None:
        return "reply" if report_add_email_reply(report=report, email=email) is not None else "duplicate"
    return "opened" if report_open_conversation_by_email(email=email) is not None else "duplicate"
