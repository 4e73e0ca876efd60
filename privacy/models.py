"""What was erased, when, and why: one row per erasure of a report's personal
data. The values are gone; this row and the report's timeline say that they
were, so support can answer "what happened to my data" and an auditor can
check that the retention policy runs."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reporting.models import Report


class ErasureScope(models.TextChoices):
    # The drivers' contact details, their words, photos and the e-mails to them.
    DRIVER_DATA = "driver_data", _("Drivers' contact details and photos")
    # A support report's conversation: e-mail bodies, attachments, senders' names.
    CONVERSATION = "conversation", _("Support conversation")


class ErasureReason(models.TextChoices):
    RETENTION = "retention", _("Retention period ended")
    REQUEST = "request", _("Request from the person")


class Erasure(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="erasures")
    scope = models.CharField(max_length=20, choices=ErasureScope.choices)
    reason = models.CharField(max_length=20, choices=ErasureReason.choices)
    # What kinds of data and how many of each, never the values:
    # {"contact details": 2, "photos": 1, "e-mails": 3}.
    counts = models.JSONField(default=dict, blank=True)
    erased_by_label = models.CharField(
        _("erased by"), max_length=200, help_text=_("The retention task, or the support person who erased it.")
    )
    erased_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-erased_at", "-id"]
        indexes = [models.Index(fields=["report", "scope", "-erased_at"], name="erasure_report_scope_idx")]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} of #{self.report_id} ({self.get_reason_display()})"

    # The order a summary names the kinds in (PostgreSQL's jsonb keeps no order).
    SUMMARY_ORDER = ["contact details", "photos", "repeat filings", "messages", "attachments", "e-mails"]

    @property
    def summary(self) -> str:
        order = {what: index for index, what in enumerate(self.SUMMARY_ORDER)}
        kinds = sorted(self.counts, key=lambda what: (order.get(what, len(order)), what))
        return ", ".join(f"{self.counts[what]} {what}" for what in kinds if self.counts[what]) or "nothing left to erase"
