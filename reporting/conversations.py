"""Support conversations that arrive by e-mail: opening a support report
from a driver's e-mail (linked to the charge point it names, or waiting in
the "needs a charge point" list), appending a reply to its conversation, and
linking a charge point later. The e-mail plumbing (parsing, loops, the
webhook) is notifications.inbound; these are the writes on reports."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.permissions import Actor, is_support
from chargepoints.models import PUBLIC_CODE_LENGTH, ChargePoint

from .catalogue import Reason, Source
from .errors import InvalidReport, NotPermitted
from .models import EventKind, Report, ReportMessage, ReportState
from .reporters import Upload, report_attachment_add
from .services.conversation import _add_message
from .services.filing import report_create
from .services.timeline import _event
from .services.transitions import report_reopen
from .teams import report_teams

EMAIL_LABEL = "E-mail"
# Words that could be an OCPP id or a public code: letters, digits and the
# separators OCPP ids use. A long e-mail is only searched this far.
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{2,98}[A-Za-z0-9]")
_SEARCH_CHARS = 20_000
_MAX_WORDS = 1000


@dataclass(frozen=True)
class InboundEmail:
    from_email: str
    from_name: str
    subject: str
    body: str
    message_id: str
    attachments: tuple[Upload, ...] = ()
    refused_attachments: tuple[str, ...] = ()  # "name: why", noted on the message


def charge_point_named_in(*, text: str) -> ChargePoint | None:
    """The one charge point whose OCPP id or public code appears in the text;
    None when none does, or when several do (support picks then)."""
    words = list(dict.fromkeys(_WORD.findall(text[:_SEARCH_CHARS])))[:_MAX_WORDS]
    if not words:
        return None
    codes = [w.upper() for w in words if len(w) == PUBLIC_CODE_LENGTH]
    found = list(
        ChargePoint.objects.filter(Q(ocpp_id__in=words) | Q(public_code__in=codes)).values_list("pk", flat=True)[:2]
    )
    if len(found) != 1:
        return None
    return ChargePoint.objects.select_related("site").get(pk=found[0])


def report_by_conversation(*, reply_token: str = "", message_ids: list[str] = ()) -> Report | None:
    """The support report a reply belongs to: by the token in the address it
    was sent to, else by the Message-IDs it answers (In-Reply-To, References)."""
    if reply_token:
        report = Report.objects.filter(reply_token=reply_token, source=Source.SUPPORT).first()
        if report is not None:
            return report
    ids = [m for m in message_ids if m][:50]
    if ids:
        message = (
            ReportMessage.objects.filter(email_message_id__in=ids, report__source=Source.SUPPORT)
            .select_related("report")
            .order_by("-sent_at")
            .first()
        )
        if message is not None:
            return message.report
    return None


def report_reply_token(*, report: Report) -> str:
    """The report's reply token, made on first use."""
    if report.reply_token:
        return report.reply_token
    token = secrets.token_hex(10)
    Report.objects.filter(pk=report.pk, reply_token__isnull=True).update(reply_token=token)
    report.refresh_from_db(fields=["reply_token"])
    return report.reply_token


def _driver_message(report: Report, email: InboundEmail) -> ReportMessage:
    body = email.body.strip() or "(The e-mail had no text.)"
    if email.refused_attachments:
        body += "\n\n[Attachments not kept: " + "; ".join(email.refused_attachments) + "]"
    message = _add_message(
        report,
        by=None,
        sender=ReportMessage.Sender.DRIVER,
        body=body,
        author_name=email.from_name or email.from_email,
    )
    message.channel = "email"
    message.email_message_id = email.message_id[:255]
    message.save(update_fields=["channel", "email_message_id"])
    for upload in email.attachments:
        report_attachment_add(report=report, upload=upload, message=message)
    return message


def _already_received(message_id: str) -> bool:
    return bool(message_id) and ReportMessage.objects.filter(email_message_id=message_id[:255]).exists()


@transaction.atomic
def report_open_conversation_by_email(*, email: InboundEmail) -> Report | None:
    """A driver's new e-mail: a support report with the e-mail as its first
    message. None when this e-mail was already received (a webhook retry)."""
    if _already_received(email.message_id):
        return None
    charge_point = charge_point_named_in(text=f"{email.subject}\n{email.body}")
    try:
        with transaction.atomic():
            report = report_create(
                charge_point=charge_point,
                source=Source.SUPPORT,
                reason=Reason.CONVERSATION,
                description=email.subject.strip()[:500] or "(no subject)",
                by=None,
                reporter_name=email.from_name[:200],
                reporter_email=email.from_email[:254],
            )
            report_reply_token(report=report)
            _driver_message(report, email)
    except IntegrityError:
        if _already_received(email.message_id):  # the same e-mail, concurrently
            return None
        raise
    return report


@transaction.atomic
def report_add_email_reply(*, report: Report, email: InboundEmail) -> ReportMessage | None:
    """A driver's reply: appended to the conversation; a resolved report is
    re-opened (the driver is not done). None for an e-mail already received."""
    if _already_received(email.message_id):
        return None
    report = Report.objects.select_for_update().get(pk=report.pk)
    try:
        with transaction.atomic():
            message = _driver_message(report, email)
    except IntegrityError:
        if _already_received(email.message_id):
            return None
        raise
    if report.state == ReportState.RESOLVED:
        report_reopen(report=report, by=None, note="The driver replied by e-mail.")
    return message


@transaction.atomic
def report_link_charge_point(*, report: Report, charge_point: ChargePoint, by: Actor | None) -> Report:
    """Support links the charge point a conversation is about (once: a
    report's charge point is not changed afterwards)."""
    if by is not None and not is_support(by):
        raise NotPermitted(action="link a charge point to")
    teams = report_teams(charge_point=charge_point)
    updated = Report.objects.filter(pk=report.pk, charge_point__isnull=True).update(charge_point=charge_point, **teams)
    if not updated:
        raise InvalidReport("This report already has a charge point.", field="charge_point")
    report.charge_point = charge_point
    report.owner_team_id, report.operator_team_id = teams["owner_team_id"], teams["operator_team_id"]
    _event(
        report,
        kind=EventKind.CHARGE_POINT_LINKED,
        by=by,
        note=f"Linked to {charge_point.name} ({charge_point.ocpp_id}).",
    )
    return report
