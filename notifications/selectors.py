"""Reads on the outbox."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Notification


def notification_list(*, actor) -> QuerySet[Notification]:
    """Notifications the actor may see, with what a list row shows."""
    return Notification.objects.for_user(actor).select_related(
        "report__charge_point", "team", "contact"
    )


def notifications_for_report(*, report_id: int, actor) -> QuerySet[Notification]:
    """A report's notifications, limited to the actor's own teams' contacts
    (support sees them all), in the order they were written."""
    return notification_list(actor=actor).filter(report_id=report_id).order_by("created_at", "id")
