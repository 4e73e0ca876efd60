"""What the e-mail provider tells us after sending (delivered, bounced,
complained), recorded on the outbox row and the report's timeline."""

from __future__ import annotations

import logging
from datetime import datetime

from anymail.signals import AnymailTrackingEvent, EventType
from django.db import transaction
from django.utils import timezone

from .models import DeliveryStatus, Notification
from .timeline import recipient_label, subject_label, timeline_row

logger = logging.getLogger(__name__)


DELIVERY_BY_EVENT_TYPE = {
    EventType.DELIVERED: DeliveryStatus.DELIVERED,
    EventType.BOUNCED: DeliveryStatus.BOUNCED,
    EventType.REJECTED: DeliveryStatus.REJECTED,
    EventType.FAILED: DeliveryStatus.REJECTED,
    EventType.COMPLAINED: DeliveryStatus.COMPLAINED,
}


def _tracked_text(value) -> str:
    """A tracking event's field as text: providers' payloads come from the
    outside, so a list or an object where text belongs counts as missing,
    and PostgreSQL refuses NUL characters."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).replace("\x00", "")


def _find_tracked(*, event: AnymailTrackingEvent) -> Notification | None:
    candidates = Notification.objects.exclude(message_id="")
    message_id = _tracked_text(event.message_id)
    recipient = _tracked_text(event.recipient).lower()
    if message_id:
        rows = candidates.filter(message_id=message_id)
        if recipient:
            rows = rows.filter(recipient_email=recipient)
        found = rows.order_by("-sent_at").first()
        if found is not None:
            return found
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    notification_id = _tracked_text(metadata.get("notification_id"))
    if notification_id.isdigit() and len(notification_id) < 19:
        rows = Notification.objects.filter(pk=int(notification_id))
        if recipient:
            rows = rows.filter(recipient_email=recipient)
        return rows.first()
    return None


@transaction.atomic
def notification_record_tracking(*, event: AnymailTrackingEvent, esp_name: str = "") -> Notification | None:
    """Record delivered / bounced / rejected / complained on the row the event
    is about, and say so on the report's timeline. Other event types (opens,
    clicks, queued) and events about e-mails we did not send are ignored.
    News never replaces more important news (see ``DeliveryStatus.rank``),
    so a late 'delivered' cannot hide a bounce."""
    delivery = DELIVERY_BY_EVENT_TYPE.get(event.event_type)
    if delivery is None:
        return None
    notification = _find_tracked(event=event)
    if notification is None:
        logger.info("Tracking event %s for unknown message %s ignored.", event.event_type, event.message_id)
        return None
    weaker = [d.value for d in DeliveryStatus if d.rank < delivery.rank]
    detail = " — ".join(filter(None, [_tracked_text(event.description), _tracked_text(event.mta_response)]))
    detail = (detail or _tracked_text(event.reject_reason))[:2000]
    at = event.timestamp if isinstance(event.timestamp, datetime) else timezone.now()
    updated = Notification.objects.filter(pk=notification.pk, delivery_status__in=weaker).update(
        delivery_status=delivery, delivery_detail=detail, delivery_at=at, updated_at=timezone.now()
    )
    if not updated:
        return notification
    notification.refresh_from_db()
    note = {
        DeliveryStatus.DELIVERED: "was delivered",
        DeliveryStatus.BOUNCED: "bounced",
        DeliveryStatus.REJECTED: "was rejected by the provider",
        DeliveryStatus.COMPLAINED: "was marked as spam by the recipient",
    }[delivery]
    timeline_row(
        notification,
        f"The e-mail to {recipient_label(notification)} about {subject_label(notification)} {note}"
        + (f": {detail}" if detail and delivery != DeliveryStatus.DELIVERED else "."),
    )
    return notification
