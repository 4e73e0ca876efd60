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


@extend_schema_serializer(
    examples=[OpenApiExample("A new endpoint, with its secret", response_only=True, value={
        **ENDPOINT_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw0KgLrN1ix+Q="})]
)
class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret. Shown this once only.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


@extend_schema_serializer(
    examples=[OpenApiExample("A new secret", response_only=True, value={
        "secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "previous_secret_expires_at": "2026-02-02T08:00:00Z"})]
)
class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True, help_text="The new signing secret. Shown this once only.")
    previous_secret_expires_at = serializers.DateTimeField(
        read_only=True, help_text="Until then deliveries are signed with the former secret as well.")


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "response_ms", "response_excerpt", "error", "succeeded"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[OpenApiExample("A delivery that succeeded at the second attempt", response_only=True, value={
        "id": 981, "endpoint": 4, "event": 5120, "event_type": "report.resolved",
        "webhook_id": "msg_5b0c3f0e6f0b4f6c9d0a1e2f3a4b5c6d", "status": "succeeded", "attempts": 2,
        "next_attempt_at": "2026-02-01T09:00:05Z", "last_status_code": 200, "last_error": "",
        "delivered_at": "2026-02-01T09:00:06Z", "created_at": "2026-02-01T09:00:00Z",
        "body": '{"type":"report.resolved","timestamp":"2026-02-01T09:00:00Z","data":{"report":{"id":77},'
                '"event":{"id":5120}}}',
        "attempt_log": [
            {"attempted_at": "2026-02-01T09:00:06Z", "status_code": 200, "response_ms": 84,
             "response_excerpt": "ok", "error": "", "succeeded": True},
            {"attempted_at": "2026-02-01T09:00:00Z", "status_code": 503, "response_ms": 5012,
             "response_excerpt": "Service Unavailable", "error": "", "succeeded": False},
        ],
    })]
)
class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "endpoint", "event", "event_type", "webhook_id", "status", "attempts", "next_attempt_at",
            "last_status_code", "last_error", "delivered_at", "created_at", "body", "attempt_log",
        ]
        read_only_fields = fields
