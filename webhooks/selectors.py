"""Reads on webhooks, scoped to what the actor may see."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_list(*, actor) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.for_user(actor).select_related("team")


def delivery_list(*, actor, endpoint_id: int | None = None) -> QuerySet[WebhookDelivery]:
    queryset = WebhookDelivery.objects.for_user(actor).select_related("endpoint__team")
    if endpoint_id is not None:
        queryset = queryset.filter(endpoint_id=endpoint_id)
    return queryset


def attempt_list(*, actor, delivery_id: int) -> QuerySet[WebhookAttempt]:
    return WebhookAttempt.objects.for_user(actor).filter(delivery_id=delivery_id)
