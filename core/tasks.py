"""Queueing Celery tasks from the code that causes them, by task name, so a
lower app can start work that a higher app defines without importing it."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task_name: str, *args, **kwargs) -> None:
    """Queue ``task_name`` once the surrounding transaction commits.

    The work it stands for is already committed (an outbox row): a broker
    that is down must not fail the request, and the periodic sweep of that
    outbox picks the rows up once a worker runs again."""

    def send() -> None:
        try:
            current_app.signature(task_name, args=args, kwargs=kwargs).apply_async()
        except Exception:
            logger.warning("Could not queue %s; its periodic sweep will pick the work up.", task_name, exc_info=True)

    send.task_name = task_name  # what a test or a log can tell it by
    transaction.on_commit(send)
