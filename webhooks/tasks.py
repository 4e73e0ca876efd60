"""Celery tasks: thin wrappers that take ids and call one service."""

from celery import shared_task

from .services import notices, sending


@shared_task(name="webhooks.deliver")
def webhooks_deliver(delivery_ids: list[int]) -> dict[str, int]:
    """Send the deliveries a committed change wrote (queued on commit)."""
    return sending.deliveries_send_many(delivery_ids=delivery_ids)


@shared_task(name="webhooks.sweep")
def webhooks_sweep() -> dict[str, int]:
    """Every minute (django-celery-beat): deliveries whose task was lost,
    retries whose backoff is over, rows whose worker died mid-send, and the
    "switched off" e-mails still to send."""
    return sending.deliveries_send_due()


@shared_task(name="webhooks.send_notices")
def webhooks_send_notices() -> int:
    """E-mail the teams whose endpoint was just switched off."""
    return notices.notices_send_pending()
