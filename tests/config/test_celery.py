"""config/celery.py with the Celery settings of config/settings/base.py:
every task has time limits, and the sweep and the e-mail outbox have queues
of their own."""

import pytest

from config.celery import app
from notifications import tasks as notification_tasks
from reporting import tasks as reporting_tasks

HEALTH_TASKS = ["reporting.health_sweep", "reporting.health_sweep_chunk"]
EMAIL_TASKS = ["notifications.send", "notifications.send_due"]


def project_tasks():
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def effective_limits(task):
    """What the worker enforces: the task's own limit, else the app's default."""
    soft = task.soft_time_limit if task.soft_time_limit is not None else app.conf.task_soft_time_limit
    hard = task.time_limit if task.time_limit is not None else app.conf.task_time_limit
    return soft, hard


def test_every_task_has_a_soft_and_a_hard_time_limit():
    names = project_tasks()
    assert set(HEALTH_TASKS + EMAIL_TASKS) <= set(names)
    for name in names:
        soft, hard = effective_limits(app.tasks[name])
        assert soft and hard, f"{name} has no time limit"
        assert soft < hard, f"{name}: the soft limit must come first so the task can clean up"


def test_the_sweep_has_room_for_a_fleet_wide_outage():
    for name in HEALTH_TASKS:
        soft, hard = effective_limits(app.tasks[name])
        assert soft >= 120 and hard > soft


def test_an_e_mail_task_is_killed_before_its_rows_lease_runs_out():
    from notifications.services import LEASE

    for name in EMAIL_TASKS:
        _, hard = effective_limits(app.tasks[name])
        assert hard < LEASE.total_seconds()


def test_a_worker_without_queues_named_consumes_all_of_them():
    assert {queue.name for queue in app.amqp.queues.values()} == {"celery", "health", "email"}


@pytest.fixture
def memory_broker(monkeypatch):
    """The app publishing to kombu's in-memory transport, whatever CI's
    broker is: the test reads the queues back from it."""
    saved = app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_always_eager
    monkeypatch.setenv("CELERY_BROKER_URL", "memory://")
    app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_always_eager = "memory://", {}, False
    app._after_fork()
    yield
    app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_always_eager = saved
    app._after_fork()


def queued(queue_name):
    """Names of the tasks waiting in one queue of the broker (taken off it)."""
    names = []
    with app.connection_for_read() as conn:
        simple = conn.SimpleQueue(queue_name)
        while simple.qsize():
            message = simple.get(block=False)
            names.append(message.headers["task"])
            message.ack()
        simple.close()
    return names


def test_tasks_are_published_to_their_queues(memory_broker):
    reporting_tasks.health_sweep.delay()
    reporting_tasks.health_sweep_chunk.delay(1, 100)
    notification_tasks.notifications_send.delay([1, 2])
    notification_tasks.notifications_send_due.delay()
    app.send_task("some.other_task")

    assert queued("health") == HEALTH_TASKS
    assert queued("email") == EMAIL_TASKS
    # Anything else waits in the default queue, behind neither.
    assert queued("celery") == ["some.other_task"]
