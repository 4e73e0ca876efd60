"""Webhook endpoints that teams register, the deliveries (the outbox, one
row per endpoint and timeline event) and every attempt to send one."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from accounts.permissions import visible_team_ids
from reporting.models import EventKind, ReportEvent


class WebhookEventType(models.TextChoices):
    REPORT_FILED = "report.filed", _("Report filed")
    REPORT_ASSIGNED = "report.assigned", _("Report assigned")
    REPORT_RESOLVED = "report.resolved", _("Report resolved")
    REPORT_REOPENED = "report.reopened", _("Report reopened")
    MESSAGE_ADDED = "report.message_added", _("Message added")
    TEST = "webhook.test", _("Test event")


# The timeline rows that are sent, and as which event type. Comments
# (internal notes), e-mails sent and the health checks' own notes are not.
EVENT_TYPE_FOR_KIND: dict[str, str] = {
    EventKind.CREATED: WebhookEventType.REPORT_FILED,
    EventKind.ASSIGNED: WebhookEventType.REPORT_ASSIGNED,
    EventKind.RESOLVED: WebhookEventType.REPORT_RESOLVED,
    EventKind.REOPENED: WebhookEventType.REPORT_REOPENED,
    EventKind.MESSAGE: WebhookEventType.MESSAGE_ADDED,
}
SUBSCRIBABLE_EVENTS = [value for value in WebhookEventType.values if value != WebhookEventType.TEST]


class WebhookEndpointQuerySet(models.QuerySet):
    def for_user(self, actor) -> WebhookEndpointQuerySet:
        """Endpoints of the teams the actor may see."""
        team_ids = visible_team_ids(actor)
        return self if team_ids is None else self.filter(team_id__in=team_ids)


class WebhookEndpoint(models.Model):
    """A team's receiver: where to send which events, signed with its secret."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text=_("The event types sent to this endpoint."))
    # The signing secret, "whsec_" + base64 of 32 random bytes. Kept as is,
    # not hashed: signing needs the secret itself (HMAC), unlike an API key
    # that only has to be recognised. It is shown once, at creation and at
    # each rotation, and never again in the admin or the API.
    secret = models.CharField(max_length=100, editable=False)
    # After a rotation, deliveries carry a second signature with the former
    # secret until this time, so a receiver can switch over without a gap.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    is_active = models.BooleanField(_("active"), default=True)
    # Since when every attempt failed (empty after a success): a day of it
    # switches the endpoint off (WEBHOOKS_DISABLE_AFTER_SECONDS).
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    # The "switched off" e-mail to the team's report contacts waits here
    # until it is sent (a one-row outbox; see webhooks.services.notices).
    disabled_notice_pending = models.BooleanField(default=False, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["team__name", "url", "id"]
        indexes = [
            models.Index(fields=["team"], condition=Q(is_active=True), name="webhookendpoint_active_idx"),
            models.Index(
                fields=["id"], condition=Q(disabled_notice_pending=True), name="webhookendpoint_notice_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class WebhookDeliveryQuerySet(models.QuerySet):
    def for_user(self, actor) -> WebhookDeliveryQuerySet:
        team_ids = visible_team_ids(actor)
        return self if team_ids is None else self.filter(endpoint__team_id__in=team_ids)


class WebhookDelivery(models.Model):
    """One message to one endpoint: the outbox row.

    Written in the same transaction as the timeline row it tells of, with
    its ``webhook_id`` and its exact body: every attempt sends the same id
    and the same bytes (only the timestamp and signature are new), so a
    receiver can drop a repeat by its id."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(
        ReportEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="webhook_deliveries",
        help_text=_("The timeline row it tells of; empty for a test event."),
    )
    event_type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    webhook_id = models.CharField(_("webhook-id"), max_length=64, unique=True, editable=False)
    # The JSON body as text, exactly as signed and sent (a JSON column could
    # reorder the keys and change the signed bytes).
    body = models.TextField(editable=False)

    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            # One message per endpoint and timeline row, however often the
            # row is seen.
            models.UniqueConstraint(
                fields=["endpoint", "event"], condition=Q(event__isnull=False),
                name="webhookdelivery_one_per_endpoint_and_event",
            ),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhookdelivery_due_idx"),
            models.Index(fields=["claimed_until"], condition=Q(status="sending"), name="webhookdelivery_lease_idx"),
            models.Index(fields=["endpoint", "-created_at"], name="webhookdelivery_endpoint_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} to {self.endpoint_id} ({self.webhook_id})"


class WebhookAttemptQuerySet(models.QuerySet):
    def for_user(self, actor) -> WebhookAttemptQuerySet:
        team_ids = visible_team_ids(actor)
        return self if team_ids is None else self.filter(delivery__endpoint__team_id__in=team_ids)


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery and what came back."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(default=timezone.now)
    url = models.URLField(max_length=2000)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(_("response time (ms)"), default=0)
    response_excerpt = models.TextField(_("response body (first 1 KB)"), blank=True)
    error = models.TextField(blank=True)
    succeeded = models.BooleanField(default=False)

    objects = WebhookAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-attempted_at", "-id"]
        verbose_name = _("webhook attempt")

    def __str__(self) -> str:
        return f"{self.status_code or self.error[:40]} in {self.response_ms} ms"
