"""Reads on the outbox."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Notification


def notification_list(*, actor) -> QuerySet[Notification]:
    """Notifications the actor may see, with what a list row shows."""
    return Notification.objects.for_user(actor).select_related(
        "report__charge_point", "team", "contact"
    )

