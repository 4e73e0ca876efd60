from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from chargepoints.api.serializers import ScopedTeamField
from core.rest.fields import StrictCharField, StrictModelSerializer

from ..models import SUBSCRIBABLE_EVENTS, WebhookAttempt, WebhookDelivery, WebhookEndpoint

ENDPOINT_EXAMPLE = {
    "id": 4,
    "team": 7,
    "url": "https://integrations.example.com/charge-point-reports",
    "description": "Ticketing system",
    "events": ["report.filed", "report.resolved"],
    "is_active": True,
    "failing_since": None,
    "disabled_at": None,
    "disabled_reason": "",
    "created_at": "2026-02-01T08:00:00Z",
}


@extend_schema_serializer(
    examples=[
        OpenApiExample("An endpoint", value=ENDPOINT_EXAMPLE, response_only=True),
        OpenApiExample(
            "Register an endpoint",
            value={k: ENDPOINT_EXAMPLE[k] for k in ("team", "url", "description", "events")},
            request_only=True,
        ),
    ]
)
class WebhookEndpointSerializer(StrictModelSerializer):
    team = ScopedTeamField(help_text="Id of the team; one where you have the admin role.")
    url = StrictCharField(
        max_length=2000,
        help_text="https:// URL that receives the POSTs. Private, loopback and link-local addresses are refused.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS), allow_empty=False,
        help_text="The event types to send.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id", "team", "url", "description", "events", "is_active", "failing_since", "disabled_at",
            "disabled_reason", "created_at",
        ]
        read_only_fields = ["id", "failing_since", "disabled_at", "disabled_reason", "created_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["team"].read_only = True  # an endpoint stays with its team
        elif self.instance is None:
            fields["is_active"].read_only = True  # a new endpoint is active
        return fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret. Shown this once only.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True, help_text="The new signing secret. Shown this once only.")
    previous_secret_expires_at = serializers.DateTimeField(
        read_only=True, help_text="Until then deliveries are signed with the former secret as well.")


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "response_ms", "response_excerpt", "error", "succeeded"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "endpoint", "event", "event_type", "webhook_id", "status", "attempts", "next_attempt_at",
            "last_status_code", "last_error", "delivered_at", "created_at", "body", "attempt_log",
        ]
        read_only_fields = fields
