from __future__ import annotations

import django_filters

from core.rest.filters import DateTimeRangeFilter

from ..models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEventType


class WebhookEndpointFilter(django_filters.FilterSet):
    class Meta:
        model = WebhookEndpoint
        fields = ["team", "is_active"]


class WebhookDeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event_type = django_filters.ChoiceFilter(choices=WebhookEventType.choices)
    created_at = DateTimeRangeFilter()

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status", "event_type"]
