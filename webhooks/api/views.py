"""Webhook endpoints and their delivery log, team-scoped: every member
reads their teams' endpoints and deliveries; admins and owners (and keys
with that role) register, change, rotate, test and delete. Another team's
endpoint is a 404; one the caller may only read is a 403 on writes. The
secret appears only in the answers of create and rotate-secret."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..selectors import delivery_list, endpoint_list
from ..services.endpoints import (
    delivery_retry,
    endpoint_create,
    endpoint_delete,
    endpoint_rotate_secret,
    endpoint_send_test,
    endpoint_update,
)
from .filters import WebhookDeliveryFilter, WebhookEndpointFilter
from .serializers import (
    SecretSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointSerializer,
)

TAG = "webhooks"


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints", tags=[TAG]),
    retrieve=extend_schema(summary="Get a webhook endpoint", tags=[TAG]),
    create=extend_schema(
        summary="Register a webhook endpoint",
        description="Needs the admin role in the team. The answer carries the signing secret, once.",
        responses={201: WebhookEndpointCreatedSerializer}, tags=[TAG],
    ),
    update=extend_schema(summary="Replace a webhook endpoint", tags=[TAG]),
    partial_update=extend_schema(
        summary="Change a webhook endpoint",
        description="`is_active: true` switches a switched-off endpoint back on.", tags=[TAG],
    ),
    destroy=extend_schema(summary="Delete a webhook endpoint and its delivery log", tags=[TAG]),
)
class WebhookEndpointViewSet(viewsets.ModelViewSet):
    serializer_class = WebhookEndpointSerializer
    filterset_class = WebhookEndpointFilter
    search_fields = ["url", "description"]
    ordering_fields = ["created_at", "url", "id"]
    ordering = ["id"]

    def get_queryset(self):
        return endpoint_list(actor=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = endpoint_create(by=request.user, **serializer.validated_data)
        data = WebhookEndpointCreatedSerializer(endpoint, context=self.get_serializer_context()).data
        data["secret"] = secret
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = endpoint_update(endpoint=serializer.instance, by=self.request.user,
                                              **serializer.validated_data)

    def perform_destroy(self, instance):
        endpoint_delete(endpoint=instance, by=self.request.user)

    @extend_schema(
        summary="Rotate the signing secret", request=None, responses={200: SecretSerializer}, tags=[TAG],
        description="A new secret, shown once. Deliveries carry signatures with both the new and the former "
        "secret until `previous_secret_expires_at` (WEBHOOKS_SECRET_GRACE_SECONDS).",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = self.get_object()
        secret = endpoint_rotate_secret(endpoint=endpoint, by=request.user)
        endpoint.refresh_from_db()
        return Response({"secret": secret, "previous_secret_expires_at": endpoint.previous_secret_expires_at})

    @extend_schema(
        summary="Send a test event", request=None, responses={202: WebhookDeliverySerializer}, tags=[TAG],
        description="Queues a `webhook.test` delivery to the endpoint; follow it in the delivery log. "
        "409 when the endpoint is switched off.",
        examples=[OpenApiExample("A queued test event", response_only=True, status_codes=["202"], value={
            "id": 982, "endpoint": 4, "event": None, "event_type": "webhook.test",
            "webhook_id": "msg_0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b", "status": "pending", "attempts": 0,
            "next_attempt_at": "2026-02-01T09:10:00Z", "last_status_code": None, "last_error": "",
            "delivered_at": None, "created_at": "2026-02-01T09:10:00Z",
            "body": '{"type":"webhook.test","timestamp":"2026-02-01T09:10:00Z","data":{}}', "attempt_log": [],
        })],
    )
    @action(detail=True, methods=["post"], url_path="test")
    def send_test(self, request, pk=None):
        delivery = endpoint_send_test(endpoint=self.get_object(), by=request.user)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="The webhook delivery log", tags=[TAG],
                       description="Newest first, with every attempt (status, response time, body excerpt)."),
    retrieve=extend_schema(summary="Get a webhook delivery", tags=[TAG]),
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter
    search_fields = ["webhook_id", "endpoint__url"]
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return delivery_list(actor=self.request.user).prefetch_related("attempt_log")

    @extend_schema(
        summary="Send a failed delivery again", request=None, responses={202: WebhookDeliverySerializer},
        tags=[TAG],
        description="Same webhook-id and body, a fresh set of attempts. Needs the admin role; 409 unless the "
        "delivery failed and its endpoint is switched on.",
        examples=[OpenApiExample("Queued again", response_only=True, status_codes=["202"], value={
            "id": 981, "endpoint": 4, "event": 5120, "event_type": "report.resolved",
            "webhook_id": "msg_5b0c3f0e6f0b4f6c9d0a1e2f3a4b5c6d", "status": "pending", "attempts": 0,
            "next_attempt_at": "2026-02-02T10:00:00Z", "last_status_code": 503, "last_error": "",
            "delivered_at": None, "created_at": "2026-02-01T09:00:00Z",
            "body": '{"type":"report.resolved","timestamp":"2026-02-01T09:00:00Z","data":{}}', "attempt_log": [],
        })],
    )
    @action(detail=True, methods=["post"], url_path="retry")
    def retry(self, request, pk=None):
        delivery = delivery_retry(delivery=self.get_object(), by=request.user)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
