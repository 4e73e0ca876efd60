"""Erasing drivers' personal data from a report, when its retention period
ends (``privacy_erase_expired``) or when the person asks.

What each scope erases is listed in docs/privacy.md. The report stays, with
its reason, charge point, states and timeline, so counts and figures still
add up; the values that identify or quote a person are blanked, files are
deleted, and a timeline row plus an ``Erasure`` row say what kind of data
went, and when, without the values.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from notifications.models import DRIVER_KINDS, Notification, NotificationKind, NotificationStatus
from reporting.models import (
    EventKind,
    Report,
    ReportAttachment,
    ReportEvent,
    ReportMessage,
    ReportReporter,
    ReportState,
    Review,
    Source,
)
from reporting.services import actor_label, report_timeline_note
from webhooks.models import WebhookDelivery

from .models import Erasure, ErasureReason, ErasureScope

log = logging.getLogger(__name__)

# What the timeline keeps in place of a driver's words.
ERASED_REPEAT_NOTE = "A driver reported this again (their details were erased)."
ERASED_MESSAGE_NOTE = "Message erased."
# Sent e-mails keep their row (who was told what kind of news, when) but not
# the address: a value that cannot be anybody's and keeps the rows unique.
ERASED_ADDRESS = "erased-{id}@erased.invalid"
# What the retention run and a person's request call drivers' reviews in
# their results (reviews are not reports: no Erasure row, the review's
# ``contact_erased_at`` says when its contact details went).
REVIEWS = "reviews"
# The report sources whose reports hold a driver's data, per scope.
SCOPE_SOURCES = {
    ErasureScope.DRIVER_DATA: [Source.USER, Source.SUPPORT],
    ErasureScope.CONVERSATION: [Source.SUPPORT],
}
SCOPE_DAYS_SETTING = {
    ErasureScope.DRIVER_DATA: "PRIVACY_DRIVER_DATA_DAYS",
    ErasureScope.CONVERSATION: "PRIVACY_SUPPORT_EMAIL_DAYS",
}
SCOPE_TIMELINE = {
    ErasureScope.DRIVER_DATA: "Drivers' personal data erased",
    ErasureScope.CONVERSATION: "Support conversation erased",
}


@dataclass(frozen=True)
class ErasureRun:
    erased: int
    left: int


def privacy_reports_due(*, scope: str, now: datetime | None = None):
    """Resolved reports whose retention for ``scope`` has ended and that were
    not erased since they were last resolved (a reopened and re-resolved
    report starts its clock again)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=getattr(settings, SCOPE_DAYS_SETTING[scope]))
    erased_since_resolution = Erasure.objects.filter(
        report=OuterRef("pk"), scope=scope, erased_at__gte=OuterRef("resolved_at")
    )
    return (
        Report.objects.filter(
            state=ReportState.RESOLVED, resolved_at__lt=cutoff, source__in=SCOPE_SOURCES[scope]
        )
        .exclude(Exists(erased_since_resolution))
        .order_by("resolved_at", "id")
    )


def privacy_erase_expired(
    *, now: datetime | None = None, batch: int = 200, budget_seconds: float = 50.0
) -> dict[str, ErasureRun]:
    """The daily retention run: erase, report by report, every scope that is
    due, batch after batch within the time budget; what is left goes at the
    next run. Each report is erased in its own transaction, under its row
    lock, so a report reopened meanwhile is skipped rather than erased."""
    now = now or timezone.now()
    deadline = time.monotonic() + budget_seconds
    result = {}
    for scope in (ErasureScope.CONVERSATION, ErasureScope.DRIVER_DATA):
        erased = 0
        while time.monotonic() < deadline:
            ids = list(privacy_reports_due(scope=scope, now=now).values_list("id", flat=True)[:batch])
            if not ids:
                break
            for report_id in ids:
                if privacy_erase_report(
                    report_id=report_id, scope=scope, reason=ErasureReason.RETENTION, by=None, now=now
                ):
                    erased += 1
            if len(ids) < batch:
                break
        left = privacy_reports_due(scope=scope, now=now).count() if time.monotonic() >= deadline else 0
        result[scope] = ErasureRun(erased=erased, left=left)
        if erased:
            log.info("Retention: erased %s on %d report(s), %d left for the next run", scope, erased, left)
    reviews = privacy_erase_expired_reviews(now=now)
    result[REVIEWS] = ErasureRun(erased=reviews, left=0)
    if reviews:
        log.info("Retention: erased the contact details of %d review(s)", reviews)
    return result


def _review_contact_erase(reviews, *, now: datetime) -> int:
    with_contact = ~Q(name="") | ~Q(email="") | ~Q(phone="")
    return reviews.filter(with_contact).update(name="", email="", phone="", contact_erased_at=now)


def privacy_erase_expired_reviews(*, now: datetime | None = None) -> int:
    """Erase reviewers' contact details ``PRIVACY_DRIVER_DATA_DAYS`` after
    the review when it filed no report, or after its report was resolved.
    The rating and the comment stay (shown without a name)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PRIVACY_DRIVER_DATA_DAYS)
    due = Review.objects.filter(
        Q(report__isnull=True, created_at__lt=cutoff)
        | Q(report__state=ReportState.RESOLVED, report__resolved_at__lt=cutoff)
    )
    return _review_contact_erase(due, now=now)


def privacy_erase_report(
    *, report_id: int, scope: str, reason: str, by=None, now: datetime | None = None
) -> Erasure | None:
    """Erase one scope of one report's personal data (see the module). For
    the retention reason the report must still be resolved and due, checked
    under its row lock; a request erases whatever the state. Returns the
    ``Erasure`` row, or None when the report no longer qualifies."""
    now = now or timezone.now()
    files: list[str] = []
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None:
            return None
        if reason == ErasureReason.RETENTION and not privacy_reports_due(scope=scope, now=now).filter(
            pk=report_id
        ).exists():
            return None
        if scope == ErasureScope.DRIVER_DATA:
            counts = _erase_driver_data(report, files)
        elif scope == ErasureScope.CONVERSATION:
            counts = _erase_conversation(report, files)
        else:
            raise ValueError(f"unknown erasure scope {scope!r}")
        label = actor_label(by) if by is not None else "Retention policy"
        erasure = Erasure.objects.create(
            report=report, scope=scope, reason=reason, counts=counts, erased_by_label=label, erased_at=now
        )
        why = ErasureReason(reason).label.lower()
        report_timeline_note(
            report=report,
            kind=EventKind.PERSONAL_DATA_ERASED,
            by=by,
            note=f"{SCOPE_TIMELINE[scope]} ({why}): {erasure.summary}.",
        )
        # Files go once the database no longer points at them; a rollback
        # keeps them.
        transaction.on_commit(lambda: _delete_files(files))
    return erasure


def _erase_driver_data(report: Report, files: list[str]) -> dict[str, int]:
    reporters = ReportReporter.objects.filter(report=report)
    contacts = reporters.exclude(name="", email="", phone="", description="").count()
    if report.reporter_name or report.reporter_email or report.reporter_phone:
        contacts = max(contacts, 1)
    reporters.update(name="", email="", phone="", phone_digits="", description="", browser_key="")
    fields = {"reporter_name": "", "reporter_email": "", "reporter_phone": ""}
    if report.source == Source.USER:
        # A user report's description is the driver's own words.
        fields["description"] = ""
    Report.objects.filter(pk=report.pk).update(**fields)
    photos = ReportAttachment.objects.filter(report=report, reporter__isnull=False)
    files.extend(photos.values_list("file", flat=True))
    photo_count = photos.delete()[0]
    repeats = ReportEvent.objects.filter(report=report, kind=EventKind.REPORTED_AGAIN).exclude(
        note=ERASED_REPEAT_NOTE
    ).update(note=ERASED_REPEAT_NOTE)
    emails = _erase_notifications(report, driver_kinds=DRIVER_KINDS)
    _erase_webhook_notes(report, kinds=[EventKind.REPORTED_AGAIN], note=ERASED_REPEAT_NOTE)
    return {"contact details": contacts, "photos": photo_count, "repeat filings": repeats, "e-mails": emails}


def _erase_conversation(report: Report, files: list[str]) -> dict[str, int]:
    messages = ReportMessage.objects.filter(report=report).exclude(body="")
    message_count = messages.count()
    messages.filter(sender=ReportMessage.Sender.DRIVER).update(body="", author_name="Driver")
    messages.update(body="")
    Report.objects.filter(pk=report.pk).update(
        description="", reporter_name="", reporter_email="", reporter_phone=""
    )
    attachments = ReportAttachment.objects.filter(report=report, message__isnull=False)
    files.extend(attachments.values_list("file", flat=True))
    attachment_count = attachments.delete()[0]
    ReportEvent.objects.filter(report=report, kind=EventKind.MESSAGE).exclude(note=ERASED_MESSAGE_NOTE).update(
        note=ERASED_MESSAGE_NOTE
    )
    emails = _erase_notifications(report, driver_kinds=[NotificationKind.DRIVER_MESSAGE])
    _erase_webhook_notes(report, kinds=[EventKind.MESSAGE], note=ERASED_MESSAGE_NOTE)
    return {"messages": message_count, "attachments": attachment_count, "e-mails": emails}


def _erase_notifications(report: Report, *, driver_kinds) -> int:
    """Blank what the report's finished e-mails said, and the driver's
    address on those that went to a driver. Rows still in flight are left:
    a resolved report past its retention has none, and a request erasure
    must not break a send in progress."""
    finished = Notification.objects.filter(
        report=report, status__in=[NotificationStatus.SENT, NotificationStatus.FAILED]
    )
    to_drivers = finished.filter(kind__in=driver_kinds).exclude(recipient_email__endswith="@erased.invalid")
    count = 0
    for notification_id in to_drivers.values_list("id", flat=True):
        count += Notification.objects.filter(pk=notification_id).update(
            recipient_name="", recipient_email=ERASED_ADDRESS.format(id=notification_id)
        )
    finished.filter(~Q(body_text="") | ~Q(body_html="") | ~Q(headers={})).update(
        body_text="", body_html="", headers={}, delivery_detail="", last_error=""
    )
    return count


def privacy_erase_person(*, email: str = "", phone: str = "", by) -> list[Erasure]:
    """A person's request to be forgotten: erase what is held about them
    (``privacy.selectors.privacy_person_data``) and only them. Another
    driver's filing of the same report stays; a support conversation with
    them goes whole. One transaction: all of it or, on an error, none.
    Audited, without the address."""
    from accounts.audit import audit_record

    from .selectors import privacy_person_data

    person = privacy_person_data(email=email, phone=phone)
    files: list[str] = []
    erasures = []
    now = timezone.now()
    with transaction.atomic():
        filings_by_report: dict[int, list[ReportReporter]] = {}
        for filing in person.filings:
            filings_by_report.setdefault(filing.report_id, []).append(filing)
        for report in person.reports:
            Report.objects.select_for_update().filter(pk=report.pk).first()
            counts = _erase_person_on_report(report, person, filings_by_report.get(report.pk, []), files)
            erasure = Erasure.objects.create(
                report=report,
                scope=ErasureScope.DRIVER_DATA,
                reason=ErasureReason.REQUEST,
                counts=counts,
                erased_by_label=actor_label(by),
                erased_at=now,
            )
            report_timeline_note(
                report=report,
                kind=EventKind.PERSONAL_DATA_ERASED,
                by=by,
                note=f"A driver's personal data erased at their request: {erasure.summary}.",
            )
            audit_record(
                by=by,
                action="erase_personal_data",
                obj=erasure,
                team=report.charge_point.owner_id if report.charge_point_id else None,
                note=f"On request: {erasure.summary}.",
            )
            erasures.append(erasure)
        if person.reviews:
            # On request their words go too (retention keeps an anonymous comment).
            Review.objects.filter(pk__in=[r.pk for r in person.reviews]).update(
                name="", email="", phone="", comment="", contact_erased_at=now
            )
        transaction.on_commit(lambda: _delete_files(files))
    return erasures


def _erase_person_on_report(report, person, filings, files) -> dict[str, int]:
    counts = {"contact details": 0, "photos": 0, "messages": 0, "attachments": 0, "e-mails": 0}
    for filing in filings:
        quoted = [text for text in (filing.description,) if text]
        if quoted:
            ReportEvent.objects.filter(report=report, kind=EventKind.REPORTED_AGAIN).filter(
                note__contains=quoted[0]
            ).update(note=ERASED_REPEAT_NOTE)
        photos = ReportAttachment.objects.filter(reporter=filing)
        files.extend(photos.values_list("file", flat=True))
        counts["photos"] += photos.delete()[0]
        counts["contact details"] += ReportReporter.objects.filter(pk=filing.pk).update(
            name="", email="", phone="", phone_digits="", description="", browser_key=""
        )
    if person._is_reporter_of(report):
        fields = {"reporter_name": "", "reporter_email": "", "reporter_phone": ""}
        if report.source == Source.USER:
            fields["description"] = ""
        Report.objects.filter(pk=report.pk).update(**fields)
        counts["contact details"] = max(counts["contact details"], 1)
    if report.pk in person.conversation_report_ids:
        conversation = _erase_conversation(report, files)
        counts["messages"] = conversation["messages"]
        counts["attachments"] = conversation["attachments"]
    if person.email:
        mine = Notification.objects.filter(report=report, recipient_email__iexact=person.email)
        counts["e-mails"] = _anonymise_addresses(mine)
    return counts


def _anonymise_addresses(notifications) -> int:
    count = 0
    for notification_id in notifications.values_list("id", flat=True):
        count += Notification.objects.filter(pk=notification_id).update(
            recipient_name="", recipient_email=ERASED_ADDRESS.format(id=notification_id),
            body_text="", body_html="", headers={}, delivery_detail="", last_error="",
        )
    return count


def _erase_webhook_notes(report: Report, *, kinds: list[str], note: str) -> int:
    """A team's webhook deliveries keep the exact body they sign, to send it
    again with the same webhook-id; a timeline row that quoted a driver (a
    conversation message, a repeat filing) is quoted there too, so the note
    in the body goes the way the timeline's did."""
    count = 0
    deliveries = WebhookDelivery.objects.filter(event__report=report, event__kind__in=kinds).only("pk", "body")
    for delivery in deliveries:
        try:
            body = json.loads(delivery.body)
            event = body["data"]["event"]
        except (ValueError, KeyError, TypeError):
            continue  # not a timeline event's body: nothing of the note in it
        if event.get("note") == note:
            continue
        event["note"] = note
        count += WebhookDelivery.objects.filter(pk=delivery.pk).update(
            body=json.dumps(body, separators=(",", ":"))
        )
    return count


def _delete_files(names: list[str]) -> None:
    storage = ReportAttachment._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            # The row is gone; a file left behind is logged for the operator.
            log.exception("Could not delete the erased attachment %s", name)
