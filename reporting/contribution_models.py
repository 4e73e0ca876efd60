"""What people add to a report after it is filed: each driver's filing
(``ReportReporter``), the messages of a support conversation
(``ReportMessage``) and the files that came with them
(``ReportAttachment``)."""

from __future__ import annotations

import os

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .storage import private_storage


class ReportMessage(models.Model):
    """A message in a support report's conversation with a driver."""

    class Sender(models.TextChoices):
        DRIVER = "driver", _("Driver")
        SUPPORT = "support", _("Support agent")

    report = models.ForeignKey("reporting.Report", on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=20, choices=Sender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    body = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(
        max_length=20, default="admin", help_text=_("Where it was written: admin, api or email.")
    )
    # The e-mail's Message-ID (an inbound driver e-mail's, or the one we gave
    # support's reply): replies name it in In-Reply-To/References.
    email_message_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            # A provider retrying its webhook must not add the e-mail twice.
            models.UniqueConstraint(
                fields=["email_message_id"],
                condition=~Q(email_message_id=""),
                name="reportmessage_unique_email_message_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:40]}"


class ReportReporter(models.Model):
    """One driver's filing of a user report: who (as far as they said), in
    which language, and the hashes that recognise them again (their
    browser's token) or let them see the report's status (their private
    link). Only SHA-256 hashes of the two tokens are stored."""

    report = models.ForeignKey("reporting.Report", on_delete=models.CASCADE, related_name="reporters")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # Digits only, so "+45 12 34 56 78" and "+4512345678" are one driver.
    phone_digits = models.CharField(max_length=40, blank=True, editable=False)
    description = models.TextField(blank=True)
    language = models.CharField(max_length=5, default="en")
    browser_key = models.CharField(max_length=64, blank=True, editable=False)
    status_key = models.CharField(max_length=64, unique=True, editable=False)
    channel = models.CharField(
        max_length=20, default="web", help_text=_("How the driver reached us: web page or app.")
    )
    # The platform key (the drivers' app) that filed it on the driver's behalf.
    api_key = models.ForeignKey(
        "accounts.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["report", "email"], name="reporter_report_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'A driver'} on #{self.report_id}"


def _attachment_path(instance, filename: str) -> str:
    # The stored name says nothing about the driver's file name.
    import uuid

    extension = os.path.splitext(filename)[1].lower()[:10]
    return f"reports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{extension}"


class ReportAttachment(models.Model):
    """A file that came with a report: a driver's photo (metadata stripped)
    or an e-mail attachment. Kept in private storage, served only through
    the download view that checks the viewer may see the report."""

    report = models.ForeignKey("reporting.Report", on_delete=models.CASCADE, related_name="attachments")
    reporter = models.ForeignKey(
        ReportReporter, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    message = models.ForeignKey(
        "ReportMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=_attachment_path, storage=private_storage, max_length=200)
    filename = models.CharField(max_length=200, help_text=_("The name shown for downloading."))
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename
