"""Writes for reports that drivers file (the public report page and the
app's platform key): one driver filing, or joining, a user report, and the
files that come with reports.

The rule: the same driver (same e-mail, same phone, or same browser)
reporting the same reason on the same charge point while that report is
unresolved adds to it (a reporter row, ``reporter_count`` + 1, a timeline
row) instead of filing another. Everything else files a new report through
``reporting.services.report_create``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q

from accounts.permissions import Actor
from chargepoints.models import ChargePoint

from .catalogue import Source
from .errors import InvalidReport
from .models import EventKind, Report, ReportAttachment, ReportEvent, ReportMessage, ReportReporter
from .services.filing import report_create, report_validate_reason
from .services.timeline import _event, actor_label


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def phone_digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


@dataclass(frozen=True)
class Driver:
    """Who files, as far as they told us. ``browser_token`` is the raw
    token of the driver's browser (a cookie), or empty."""

    name: str = ""
    email: str = ""
    phone: str = ""
    language: str = "en"
    browser_token: str = ""
    channel: str = "web"


@dataclass(frozen=True)
class Upload:
    """A file's bytes, already checked by the caller (type, size)."""

    content: bytes
    filename: str
    content_type: str


@dataclass(frozen=True)
class DriverFiling:
    report: Report
    reporter: ReportReporter
    event: ReportEvent
    status_token: str  # raw; shown once (the driver's private status link)
    joined: bool  # True: added to an open report instead of filing one


def report_open_for_driver(
    *, charge_point: ChargePoint, reason: str, driver: Driver, any_driver: bool = False
) -> Report | None:
    """The unresolved user report this driver already filed for this reason
    on this charge point, if any; with ``any_driver``, whoever filed it (one
    report per charge point and reason while open, as for reviews)."""
    if any_driver:
        return (
            Report.objects.unresolved()
            .filter(charge_point=charge_point, reason=reason, source=Source.USER)
            .order_by("created_at")
            .first()
        )
    same_driver = Q()
    if driver.email:
        same_driver |= Q(reporters__email__iexact=driver.email)
    if phone_digits(driver.phone):
        same_driver |= Q(reporters__phone_digits=phone_digits(driver.phone))
    if driver.browser_token:
        same_driver |= Q(reporters__browser_key=token_hash(driver.browser_token))
    if not same_driver:
        return None
    return (
        Report.objects.unresolved()
        .filter(charge_point=charge_point, reason=reason, source=Source.USER)
        .filter(same_driver)
        .order_by("created_at")
        .first()
    )


@transaction.atomic
def report_file_by_driver(
    *,
    charge_point: ChargePoint,
    reason: str,
    description: str,
    driver: Driver,
    by: Actor | None = None,
    photo: Upload | None = None,
    join_any_driver: bool = False,
) -> DriverFiling:
    """File a user report for a driver, or add the driver's filing to the
    open report they already filed (see the module's rule); with
    ``join_any_driver``, to the open report of this reason whoever filed it."""
    report_validate_reason(source=Source.USER, reason=reason, charge_point=charge_point)
    # Two filings on one charge point at once (a double tap) must not both
    # miss each other's report: they queue on the charge point's row.
    ChargePoint.objects.select_for_update().filter(pk=charge_point.pk).first()
    report = report_open_for_driver(
        charge_point=charge_point, reason=reason, driver=driver, any_driver=join_any_driver
    )
    joined = report is not None
    # A platform key files for drivers on any charge point; it holds no
    # team role, so it files as the system and the timeline names it.
    platform = by if getattr(by, "is_platform", False) else None
    if report is None:
        report = report_create(
            charge_point=charge_point,
            source=Source.USER,
            reason=reason,
            description=description,
            by=None if platform else by,
            reporter_name=driver.name,
            reporter_email=driver.email,
            reporter_phone=driver.phone,
        )
        event = report.events.get(kind=EventKind.CREATED)
        if platform is not None:
            event.actor_label = actor_label(platform)
            event.save(update_fields=["actor_label"])
    else:
        Report.objects.filter(pk=report.pk).update(reporter_count=F("reporter_count") + 1)
        report.refresh_from_db(fields=["reporter_count"])
        who = driver.name or "A driver"
        note = f"{who} reported this again ({report.reporter_count} reports)."
        if description:
            note += f" {description}"
        event = _event(report, kind=EventKind.REPORTED_AGAIN, by=by, note=note)
    status_token = secrets.token_urlsafe(32)
    reporter = ReportReporter.objects.create(
        report=report,
        name=driver.name,
        email=driver.email.lower(),
        phone=driver.phone,
        phone_digits=phone_digits(driver.phone),
        description=description,
        language=driver.language,
        browser_key=token_hash(driver.browser_token) if driver.browser_token else "",
        status_key=token_hash(status_token),
        channel=driver.channel,
        api_key=platform,
    )
    if photo is not None:
        report_attachment_add(report=report, upload=photo, reporter=reporter)
    return DriverFiling(report=report, reporter=reporter, event=event, status_token=status_token, joined=joined)


def report_reporter_by_status_token(*, token: str) -> ReportReporter | None:
    """The filing a private status link belongs to (with its report)."""
    if not token or len(token) > 100:
        return None
    return (
        ReportReporter.objects.select_related("report__charge_point__site")
        .filter(status_key=token_hash(token))
        .first()
    )


def report_attachment_add(
    *,
    report: Report,
    upload: Upload,
    reporter: ReportReporter | None = None,
    message: ReportMessage | None = None,
) -> ReportAttachment:
    """Keep a file with a report. Callers add it last in their transaction:
    the file is written, then its row; if the row fails, the file goes too."""
    if not upload.content:
        raise InvalidReport("An attachment cannot be empty.", field="attachment")
    attachment = ReportAttachment(
        report=report,
        reporter=reporter,
        message=message,
        filename=upload.filename[:200] or "attachment",
        content_type=upload.content_type[:100],
        size=len(upload.content),
    )
    attachment.file.save(upload.filename or "attachment", ContentFile(upload.content), save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment
