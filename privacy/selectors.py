"""Everything held about one person, found by their e-mail address or phone
number: what support shows, exports and erases when the person asks
(GDPR articles 15, 17 and 20)."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils import timezone

from core.errors import Invalid
from notifications.models import Notification
from reporting.models import Report, ReportAttachment, ReportMessage, ReportReporter, Review, Source
from reporting.reporters import phone_digits

# A request that matches more than this is refused as too broad (a typo such
# as a shared support address); support narrows it down.
MAX_REPORTS = 2000


@dataclass
class PersonData:
    email: str
    phone: str
    reports: list[Report] = field(default_factory=list)
    filings: list[ReportReporter] = field(default_factory=list)
    messages: list[ReportMessage] = field(default_factory=list)
    attachments: list[ReportAttachment] = field(default_factory=list)
    emails: list[Notification] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.reports or self.filings or self.messages or self.emails or self.reviews)

    @property
    def conversation_report_ids(self) -> set[int]:
        """Support reports whose conversation is with this person."""
        return {r.pk for r in self.reports if r.source == Source.SUPPORT and self._is_reporter_of(r)}

    def _is_reporter_of(self, report: Report) -> bool:
        return bool(
            (self.email and report.reporter_email.lower() == self.email)
            or (self.phone and phone_digits(report.reporter_phone) == self.phone)
        )


def privacy_clean_identity(*, email: str = "", phone: str = "") -> tuple[str, str]:
    """The e-mail address (lower case) and phone digits to look for; a clear
    error when neither is usable."""
    email = (email or "").strip().lower()
    digits = phone_digits(phone or "")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise Invalid("Enter a valid e-mail address.", field="email") from None
    if phone and len(digits) < 6:
        raise Invalid("Enter a phone number with at least 6 digits.", field="phone")
    if not email and not digits:
        raise Invalid("Enter the person's e-mail address or phone number.", field="email")
    return email, digits


def privacy_person_data(*, email: str = "", phone: str = "") -> PersonData:
    email, digits = privacy_clean_identity(email=email, phone=phone)
    person = PersonData(email=email, phone=digits)

    filing_match = Q()
    report_match = Q()
    if email:
        filing_match |= Q(email__iexact=email)
        report_match |= Q(reporter_email__iexact=email)
    if digits:
        # Every driver filing has its row with the phone's digits; the
        # report's own phone is the first filing's, so the rows find it.
        filing_match |= Q(phone_digits=digits)
    person.filings = list(
        ReportReporter.objects.filter(filing_match).select_related("report").order_by("created_at", "id")
    )
    report_ids = {filing.report_id for filing in person.filings}
    if email:
        report_ids |= set(Report.objects.filter(report_match).values_list("id", flat=True)[: MAX_REPORTS + 1])
    if len(report_ids) > MAX_REPORTS:
        raise Invalid(
            f"This matches more than {MAX_REPORTS} reports: check the address, it may be a shared one.",
            field="email",
        )
    person.reports = list(
        Report.objects.with_context().filter(pk__in=report_ids).order_by("-created_at", "-id")
    )
    conversations = person.conversation_report_ids
    person.messages = list(
        ReportMessage.objects.filter(report_id__in=conversations, sender=ReportMessage.Sender.DRIVER)
        .order_by("sent_at", "id")
    )
    filing_ids = [filing.pk for filing in person.filings]
    person.attachments = list(
        ReportAttachment.objects.filter(
            Q(reporter_id__in=filing_ids) | Q(report_id__in=conversations, message__isnull=False)
        ).order_by("created_at", "id")
    )
    review_match = Q()
    if email:
        review_match |= Q(email__iexact=email)
    if digits:
        # Reviews keep the phone as typed: compared by its digits.
        review_match |= Q(phone__regex=r"\D*".join(digits))
    person.reviews = [
        review for review in Review.objects.filter(review_match).order_by("created_at", "id")
        if (email and review.email.lower() == email) or (digits and phone_digits(review.phone) == digits)
    ]
    if email:
        person.emails = list(
            Notification.objects.filter(recipient_email__iexact=email).order_by("created_at", "id")
        )
    return person


def _iso(value):
    return value.isoformat() if value else None


def privacy_person_export(*, person: PersonData) -> bytes:
    """One ZIP: ``data.json`` with everything held about the person, and
    their photos and attachments under ``files/``."""
    data = {
        "exported_at": timezone.now().isoformat(),
        "looked_up_by": {"email": person.email, "phone_digits": person.phone},
        "reports": [
            {
                "id": report.pk,
                "charge_point": report.charge_point.name if report.charge_point_id else None,
                "source": report.source,
                "reason": report.get_reason_display(),
                "state": report.state,
                "created_at": _iso(report.created_at),
                "resolved_at": _iso(report.resolved_at),
                "description": report.description if person._is_reporter_of(report) else None,
                "reporter_name": report.reporter_name if person._is_reporter_of(report) else None,
                "reporter_email": report.reporter_email if person._is_reporter_of(report) else None,
                "reporter_phone": report.reporter_phone if person._is_reporter_of(report) else None,
            }
            for report in person.reports
        ],
        "filings": [
            {
                "report": filing.report_id,
                "name": filing.name,
                "email": filing.email,
                "phone": filing.phone,
                "description": filing.description,
                "language": filing.language,
                "channel": filing.channel,
                "filed_at": _iso(filing.created_at),
            }
            for filing in person.filings
        ],
        "messages": [
            {"report": m.report_id, "from": m.author_name, "body": m.body, "sent_at": _iso(m.sent_at),
             "channel": m.channel}
            for m in person.messages
        ],
        "emails_sent_to_them": [
            {"report": n.report_id, "kind": n.kind, "to": n.recipient_email, "subject": n.subject,
             "body": n.body_text, "status": n.status, "sent_at": _iso(n.sent_at)}
            for n in person.emails
        ],
        "reviews": [
            {"charge_point": review.charge_point_id, "rating": review.rating, "comment": review.comment,
             "name": review.name, "email": review.email, "phone": review.phone, "channel": review.channel,
             "reviewed_at": _iso(review.created_at)}
            for review in person.reviews
        ],
        "files": [],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for attachment in person.attachments:
            name = f"files/{attachment.pk}-{attachment.filename.replace('/', '_')}"
            try:
                with attachment.file.open("rb") as handle:
                    archive.writestr(name, handle.read())
            except OSError:
                name = None
            data["files"].append(
                {"report": attachment.report_id, "name": attachment.filename, "in_zip": name,
                 "content_type": attachment.content_type, "size": attachment.size}
            )
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
    return buffer.getvalue()
