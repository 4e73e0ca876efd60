from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from accounts.permissions import visible_team_ids
from reporting.models import Report, ReportContact, ReportEvent


class NotificationKind(models.TextChoices):
    """What the e-mail is about: the timeline event that caused it."""

    CREATED = "created", _("Report created")
    ASSIGNED = "assigned", _("Report assigned")
    RESOLVED = "resolved", _("Report resolved")
    # To the driver who filed a user report (when they gave an e-mail).
    DRIVER_CONFIRMATION = "driver_confirmation", _("Driver: report received")
    DRIVER_RESOLVED = "driver_resolved", _("Driver: report resolved")
    # Support's message in a conversation, e-mailed to the driver (threaded).
    DRIVER_MESSAGE = "driver_message", _("Driver: support's reply")
    # A report missed a response-time target (reporting/response_targets.py).
    TARGET_MISSED = "target_missed", _("Response-time target missed")
    # A team's digest: the reports filed, assigned and resolved in a period.
    DIGEST = "digest", _("Digest")
    # A team's monthly performance figures (the performance app writes it
    # through notifications.services.notifications_queue_for_team).
    PERFORMANCE = "performance", _("Monthly performance")


# Kinds sent to a driver, not to a team's contact: at most one of each per
# report and address, however often the report is filed again or resolved.
DRIVER_KINDS = [NotificationKind.DRIVER_CONFIRMATION, NotificationKind.DRIVER_RESOLVED]


class NotificationStatus(models.TextChoices):
    """Where the row is in the outbox.

    pending -> sending -> sent, or back to pending (a retry, due at
    ``next_attempt_at``), or failed (a permanent error or too many attempts).
    """

    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class DeliveryStatus(models.TextChoices):
    """What the provider told us afterwards, through its tracking webhook."""

    UNKNOWN = "", _("No news yet")
    DELIVERED = "delivered", _("Delivered")
    REJECTED = "rejected", _("Rejected by the provider")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Marked as spam")

    @property
    def rank(self) -> int:
        """Later news only replaces earlier news of a lower rank: a complaint
        arrives after a delivery, and a late 'delivered' must not hide a bounce."""
        return {"": 0, "delivered": 1, "rejected": 2, "bounced": 2, "complained": 3}[self.value]


class NotificationQuerySet(models.QuerySet):
    def for_user(self, actor) -> NotificationQuerySet:
        """Notifications to the contacts of the actor's teams."""
        team_ids = visible_team_ids(actor)
        return self if team_ids is None else self.filter(team_id__in=team_ids)

    def due(self, *, now=None, due_by=None) -> NotificationQuerySet:
        """Rows a sender may claim now: pending and due (by ``due_by``, now
        unless the sweep says otherwise), or claimed by a worker whose lease
        ran out (it crashed or lost its task)."""
        now = now or timezone.now()
        return self.filter(
            Q(status=NotificationStatus.PENDING, next_attempt_at__lte=due_by or now)
            | Q(status=NotificationStatus.SENDING, claimed_until__lt=now)
        )


class Notification(models.Model):
    """One e-mail to one contact about one timeline event: the outbox row.

    Written in the same transaction as the report change that caused it, so
    a report never exists without its notifications and a rolled-back change
    sends nothing. The subject and bodies are rendered when the row is
    written, in the team's language: the row is exactly what gets sent, on
    the first try or the tenth.
    """

    # Empty for a digest, which is about many reports (see ``digest``).
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    event = models.ForeignKey(
        ReportEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    digest = models.ForeignKey(
        "Digest", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        help_text=_("The team whose report settings named the recipient; empty for a driver."),
    )
    contact = models.ForeignKey(
        ReportContact, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    recipient_name = models.CharField(max_length=200)
    recipient_email = models.EmailField()
    language = models.CharField(max_length=5)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField()
    # Extra e-mail headers (Message-ID, In-Reply-To, References, Reply-To,
    # From) for a conversation's threaded e-mails; empty for the others.
    headers = models.JSONField(default=dict, blank=True)

    status = models.CharField(
        _("status"), max_length=20, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    # The e-mail's own Message-ID, made once before the first attempt and
    # sent unchanged on every retry, so a receiver (and our inbound mail)
    # recognises a repeat of an e-mail whose first copy did arrive.
    email_message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, editable=False)
    esp_name = models.CharField(_("provider"), max_length=50, blank=True)
    message_id = models.CharField(_("provider message id"), max_length=255, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    delivery_status = models.CharField(
        _("delivery"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.UNKNOWN, blank=True
    )
    delivery_detail = models.TextField(blank=True)
    delivery_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One e-mail per address per event, however the contacts overlap.
            models.UniqueConstraint(
                fields=["event", "recipient_email"], name="notification_one_per_event_and_address"
            ),
            models.UniqueConstraint(
                fields=["report", "kind", "recipient_email"],
                condition=Q(kind__in=DRIVER_KINDS),
                name="notification_driver_once_per_report",
            ),
            # One e-mail per address per digest, however often it is built.
            models.UniqueConstraint(
                fields=["digest", "recipient_email"],
                condition=Q(digest__isnull=False),
                name="notification_one_per_digest_and_address",
            ),
        ]
        indexes = [
            # The sweep's two range scans touch only the rows still in flight.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="notification_pending_due_idx",
            ),
            models.Index(
                fields=["claimed_until"],
                condition=Q(status="sending"),
                name="notification_lease_idx",
            ),
            models.Index(fields=["message_id"], name="notification_message_id_idx"),
            models.Index(fields=["status", "-created_at"], name="notification_status_idx"),
        ]

    def __str__(self) -> str:
        about = f"#{self.report_id}" if self.report_id else f"digest {self.digest_id}"
        return f"{self.get_kind_display()} {about} to {self.recipient_email}"

    @property
    def recipient(self) -> str:
        return f"{self.recipient_name} <{self.recipient_email}>" if self.recipient_name else self.recipient_email


class UnsubscribedAddress(models.Model):
    """A driver who asked for no more status e-mails (notifications/unsubscribe.py):
    the SHA-256 of the address, never the address."""

    email_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("unsubscribed address")

    def __str__(self) -> str:
        return f"{self.email_hash[:12]}…"


class Digest(models.Model):
    """A team's e-mails collected over a period instead of sent one by one:
    for a team whose report settings say "digest", or for any team during a
    burst of new reports. At most one digest of a team is open (not built)
    at a time; report events join it while its period runs. When the period
    is over, building it writes one outbox row per active contact
    (``Notification.digest``) and sets ``built_at``, in one transaction."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="digests")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    burst = models.BooleanField(
        default=False, help_text=_("Collected because of a burst of new reports, not the team's setting.")
    )
    built_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team"], condition=Q(built_at__isnull=True), name="digest_one_open_per_team"
            ),
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="digest_period_ordered"),
        ]
        indexes = [
            models.Index(fields=["period_end"], condition=Q(built_at__isnull=True), name="digest_open_due_idx"),
        ]

    def __str__(self) -> str:
        return f"Digest of {self.team} from {self.period_start:%Y-%m-%d %H:%M}"


class DigestEntry(models.Model):
    """A report event in a digest."""

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="entries")
    event = models.ForeignKey(ReportEvent, on_delete=models.CASCADE, related_name="digest_entries")

    class Meta:
        ordering = ["event_id"]
        constraints = [
            models.UniqueConstraint(fields=["digest", "event"], name="digestentry_once_per_digest"),
        ]

    def __str__(self) -> str:
        return f"Event {self.event_id} in digest {self.digest_id}"
