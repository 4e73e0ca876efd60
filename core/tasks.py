"""Queueing Celery tasks from the code that causes them, by task name, so a
lower app can start work that a higher app defines without importing it."""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import contextmanager

from celery import current_app
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

# After a publish fails, this process does not try the broker again for
# settings.TASK_PUBLISH_PAUSE_SECONDS: under a broker fault only the first
# request in each pause pays the publish timeout, the others none at all.
_paused_until = 0.0


def publish_pause_reset() -> None:
    """Forget a failed publish (tests; a broker known to be back)."""
    global _paused_until
    _paused_until = 0.0


# Each thread keeps its publishing connection between requests: opening one
# (TCP, the broker's handshake) is most of a publish's time. Keyed by the
# process (a forked child opens its own), the broker and the timeout.
_local = threading.local()


def _publish_connection(app, timeout: float):
    key = (os.getpid(), app.conf.broker_url, timeout)
    cached = getattr(_local, "connection", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    _drop_publish_connection()
    transport_options = {
        **(app.conf.broker_transport_options or {}),
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "max_retries": 0,
        "interval_start": 0,
    }
    connection = app.connection_for_write(connect_timeout=timeout, transport_options=transport_options)
    _local.connection = (key, connection)
    return connection


def _drop_publish_connection() -> None:
    cached, _local.connection = getattr(_local, "connection", None), None
    if cached is not None and cached[0][0] == os.getpid():
        try:
            cached[1].close()
        except Exception:  # already broken: that is why it is dropped
            logger.debug("Closing a broken publishing connection failed.", exc_info=True)


def publish(task_name: str, *args, **kwargs) -> bool:
    """Hand a task to the broker now, or give up quickly; returns whether it
    was queued. Only for work that is already committed and swept up
    periodically (an outbox row): losing the message costs a minute.

    The publish has its own connection (kept by the thread for the next
    publish, dropped after a failure) with short connect and socket
    timeouts and no retry loop, so a broker that refuses or hangs holds a
    request for at most about TASK_PUBLISH_TIMEOUT_SECONDS per step. These
    timeouts stay on this connection: the worker's own connection to the
    broker, which waits patiently for tasks and acknowledgements, keeps its
    settings (a short socket timeout there leaves a worker unable to ack).

    After a failure the process skips publishing for
    TASK_PUBLISH_PAUSE_SECONDS (returning False at once): a broker that is
    down costs one timeout per pause, not one per request."""
    global _paused_until
    app = current_app
    signature = app.signature(task_name, args=args, kwargs=kwargs)
    try:
        if app.conf.task_always_eager:
            signature.apply_async()
            return True
        if time.monotonic() < _paused_until:
            logger.info("Not queueing %s: the broker failed a moment ago; its sweep picks the work up.", task_name)
            return False
        connection = _publish_connection(app, settings.TASK_PUBLISH_TIMEOUT_SECONDS)
        signature.apply_async(connection=connection, retry=False)
        return True
    except Exception:
        _drop_publish_connection()
        _paused_until = time.monotonic() + settings.TASK_PUBLISH_PAUSE_SECONDS
        logger.warning("Could not queue %s; its periodic sweep will pick the work up.", task_name, exc_info=True)
        return False


# Within ``enqueue_coalesced()``: the callbacks queued so far in the block.
_coalescing = threading.local()


@contextmanager
def enqueue_coalesced():
    """Within this block, a task queued again with the same arguments, while
    the one queued earlier in the block still waits for the commit, is not
    queued twice: a sweep that writes timeline rows check after check needs
    one message, not one per statement. Nested blocks join the outer one.

    Safe across savepoints: a rollback that drops the waiting callback
    would drop the new one too, as it belongs to every savepoint still
    open; one dropped or already sent (a test that runs a block's callbacks
    by hand) does not count. Only inside the block, so an unrelated earlier
    callback of the same transaction is never relied on."""
    if getattr(_coalescing, "queued", None) is not None:
        yield
        return
    _coalescing.queued = []
    try:
        yield
    finally:
        _coalescing.queued = None


def enqueue_on_commit(task_name: str, *args, **kwargs) -> None:
    """Queue ``task_name`` once the surrounding transaction commits
    (once per ``enqueue_coalesced()`` block).

    The work it stands for is already committed (an outbox row): a broker
    that is down or hangs must neither fail nor hold the request (see
    ``publish``), and the periodic sweep of that outbox picks the rows up
    once a worker runs again."""
    key = (task_name, args, tuple(sorted(kwargs.items())))
    queued = getattr(_coalescing, "queued", None)
    connection = transaction.get_connection()
    if queued and connection.in_atomic_block:
        waiting = {id(func) for _savepoints, func, _robust in connection.run_on_commit}
        if any(func.task_key == key and not func.sent and id(func) in waiting for func in queued):
            return

    def send() -> None:
        send.sent = True
        publish(task_name, *args, **kwargs)

    send.task_name = task_name  # what a test or a log can tell it by
    send.task_key = key
    send.sent = False
    transaction.on_commit(send)
    if queued is not None and connection.in_atomic_block:
        queued.append(send)
