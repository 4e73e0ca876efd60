"""Celery tasks: thin wrappers that take ids and call one service."""

from celery import shared_task

from . import digests, events
from .services import sending


@shared_task(name="notifications.send")
def notifications_send(notification_ids: list[int]) -> dict[str, int]:
    """Send the rows a committed report change wrote (queued on commit)."""
    return sending.notifications_send_many(notification_ids=notification_ids)


@shared_task(name="notifications.process_events")
def notifications_process_events() -> int:
    """Turn new report timeline rows into outbox rows (queued on commit of a
    report change)."""
    return events.notifications_process_events()


@shared_task(name="notifications.send_due")
def notifications_send_due() -> dict[str, int]:
    """Every minute (django-celery-beat): timeline rows whose processing task
    was lost, then outbox rows whose task was lost, retries whose backoff is
    over, and rows whose worker died mid-send. Digests whose period is over
    are built first, so they go out in the same sweep."""
    events.notifications_process_events()
    digests.notifications_build_digests()
    return sending.notifications_send_due()
