"""Reads on the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from .models import Notification, NotificationStatus


def notification_list(*, actor) -> QuerySet[Notification]:
    """Notifications the actor may see, with what a list row shows."""
    return Notification.objects.for_user(actor).select_related(
        "report__charge_point", "team", "contact"
    )



def outbox_health(*, now: datetime | None = None) -> dict:
    """What a monitor alerts on, in one query: how long the oldest e-mail
    not yet sent has waited (None when none waits), and how many e-mails
    failed for good in the last hour."""
    now = now or timezone.now()
    figures = Notification.objects.aggregate(
        oldest=Min("created_at", filter=Q(status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING])),
        failed=Count("pk", filter=Q(status=NotificationStatus.FAILED, updated_at__gte=now - timedelta(hours=1))),
    )
    oldest = figures["oldest"]
    return {
        "oldest_pending_seconds": None if oldest is None else max(0, round((now - oldest).total_seconds())),
        "failed_last_hour": figures["failed"],
    }
