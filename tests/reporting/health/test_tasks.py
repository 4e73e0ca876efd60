"""reporting/tasks.py through a real Celery worker, and the beat schedule its
migration seeds."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.celery import app
from reporting import tasks
from reporting.catalogue import Reason, Source
from reporting.models import Report
from tests.factories import ChargePointFactory


@pytest.fixture
def celery_worker():
    """A worker thread on the configured broker when it is a server (CI's
    Redis pass), otherwise on kombu's in-memory transport: the filesystem
    broker's folders are shared with `make run`, whose worker would take
    the test's tasks."""
    saved = app.conf.broker_url, app.conf.broker_transport_options
    if not app.conf.broker_url.startswith(("redis://", "rediss://", "amqp://", "amqps://")):
        app.conf.broker_url, app.conf.broker_transport_options = "memory://", {}
    reset_producer_pool()
    # Tasks other tests queued on a shared broker (on-commit e-mails, say)
    # would be taken by this worker first.
    app.control.purge()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30) as worker:
            yield worker
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = saved
        reset_producer_pool()


def reset_producer_pool():
    # The app caches its connections to the broker it first used; forget
    # them as Celery does after a fork (kombu keeps the pools by broker URL).
    app._after_fork()


@pytest.fixture
def finished_tasks():
    """Names of the tasks the worker has finished, in order."""
    names = []

    def record(sender=None, state=None, **kwargs):
        names.append((sender.name, state))

    task_postrun.connect(record, weak=False)
    yield names
    task_postrun.disconnect(record)


def wait_for(finished, count, *, prefix="reporting.", seconds=30):
    """The first ``count`` finished tasks whose names start with ``prefix``
    (the sweep's; the notifications task it queues finishes beside them)."""
    # Waits on the worker's signals rather than polling the database: the
    # SQLite pass shares one in-memory database between the threads, and a
    # read there while the worker writes fails with "table is locked".
    deadline = time.monotonic() + seconds

    def mine():
        return [entry for entry in finished if entry[0].startswith(prefix)]

    while time.monotonic() < deadline and len(mine()) < count:
        time.sleep(0.05)
    return mine()


@pytest.mark.django_db(transaction=True)
def test_the_sweep_task_files_reports_through_a_worker(celery_worker, finished_tasks):
    cp = ChargePointFactory(state="disconnected", state_since=timezone.now() - timedelta(minutes=11))

    tasks.health_sweep.delay()

    assert wait_for(finished_tasks, 1) == [("reporting.health_sweep", "SUCCESS")]
    # The new timeline rows are handed to the notifications app by task name
    # (on a shared broker, earlier tests' tasks may finish here too).
    processed = wait_for(finished_tasks, 1, prefix="notifications.")
    assert processed and set(processed) == {("notifications.process_events", "SUCCESS")}
    report = Report.objects.get(charge_point=cp, source=Source.SYSTEM)
    assert report.reason == Reason.DISCONNECTED


@pytest.mark.django_db
def test_the_sweep_is_scheduled_every_minute_under_a_registered_task_name():
    periodic = PeriodicTask.objects.get(task="reporting.health_sweep")

    assert periodic.enabled
    assert (periodic.interval.every, periodic.interval.period) == (1, "minutes")
    assert periodic.task in app.tasks


@pytest.mark.django_db
def test_the_reconciliation_is_scheduled_hourly_under_a_registered_task_name():
    periodic = PeriodicTask.objects.get(task="reporting.health_reconcile")

    assert periodic.enabled
    assert (periodic.interval.every, periodic.interval.period) == (60, "minutes")
    assert periodic.task in app.tasks


@pytest.mark.django_db
def test_the_schedule_support_changed_survives_the_migration_running_again():
    from importlib import import_module

    from django.apps import apps

    periodic = PeriodicTask.objects.get(task="reporting.health_sweep")
    periodic.enabled = False
    periodic.save()

    import_module("reporting.migrations.0003_health_sweep_schedule").schedule(apps, None)

    assert PeriodicTask.objects.get(task="reporting.health_sweep").enabled is False
