"""E-mails to drivers about the reports they filed, through the same outbox
as the teams' e-mails (see ``notifications.services``): a confirmation when
they file (or add to) a report, and one message when it is resolved.

"Never twice" is the database's promise, not a check in code: a partial
unique constraint allows one row per report, kind and address, so a report
resolved, re-opened and resolved again, or filed again by the same driver,
e-mails that driver once for each kind.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from core.tasks import enqueue_on_commit
from reporting.catalogue import DRIVER_REASON_LABELS, Source
from reporting.models import EventKind, ReportEvent, ReportReporter

from .models import Notification, NotificationKind
from .unsubscribe import is_unsubscribed, unsubscribe_headers, unsubscribe_url


def _render(
    *, kind: str, event: ReportEvent, language: str, name: str, status_url: str, email: str
) -> tuple[str, str, str]:
    report = event.report
    cp = report.charge_point
    with translation.override(language):
        context = {
            "kind": kind,
            "language": language,
            "name": name,
            "report_id": report.pk,
            "reason": str(DRIVER_REASON_LABELS.get(report.reason, report.get_reason_display())),
            "cp_name": cp.name if cp else "",
            "site_name": cp.site.name if cp else "",
            "status_url": status_url,
            "unsubscribe_url": unsubscribe_url(email=email),
            "privacy_url": settings.PUBLIC_REPORT_BASE_URL + reverse("privacy-notice"),
        }
        subject = " ".join(render_to_string("notifications/email/driver_subject.txt", context).split())
        context["subject"] = subject
        body_text = render_to_string("notifications/email/driver_body.txt", context)
        body_html = render_to_string("notifications/email/driver_body.html", context)
    return subject[:300], body_text.strip() + "\n", body_html


def notification_to_driver(
    *, event: ReportEvent, kind: str, email: str, name: str = "", language: str = "en", status_url: str = ""
) -> Notification | None:
    """Write one e-mail to a driver and queue it on commit; ``None`` when this
    driver already has (or had) this kind of e-mail about this report.
    Must run inside the transaction that wrote the event."""
    email = (email or "").strip().lower()
    if not email or is_unsubscribed(email):
        return None
    subject, body_text, body_html = _render(
        kind=kind, event=event, language=language, name=name, status_url=status_url, email=email
    )
    row = Notification(
        report_id=event.report_id,
        event=event,
        kind=kind,
        team=None,
        recipient_name=name[:200],
        recipient_email=email,
        language=language,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        headers=unsubscribe_headers(email=email),
        next_attempt_at=event.created_at,
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return None  # already e-mailed about this (see the module's docstring)
    enqueue_on_commit("notifications.send", [row.pk])
    return row


def notifications_for_driver_resolution(*, event: ReportEvent, skip: set[str]) -> list[Notification]:
    """A resolved user report: one message to each driver who filed it and
    gave an e-mail (``skip``: addresses this event already e-mails)."""
    report = event.report
    if event.kind != EventKind.RESOLVED or report.source != Source.USER:
        return []
    rows = []
    seen = set(skip)
    for reporter in ReportReporter.objects.filter(report_id=report.pk).exclude(email="").order_by("created_at"):
        if reporter.email in seen:
            continue
        seen.add(reporter.email)
        row = notification_to_driver(
            event=event,
            kind=NotificationKind.DRIVER_RESOLVED,
            email=reporter.email,
            name=reporter.name,
            language=reporter.language,
        )
        if row is not None:
            rows.append(row)
    return rows
