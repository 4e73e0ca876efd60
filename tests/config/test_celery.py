"""config/celery.py with the Celery settings of config/settings/celery.py:
every task has time limits, and the sweep, the e-mail outbox and the
webhooks have queues of their own."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.conf import settings

from config.celery import app
from notifications import tasks as notification_tasks
from reporting import tasks as reporting_tasks
from tests.config.conftest import REPO, clean_env, run_python
from webhooks import tasks as webhook_tasks

HEALTH_TASKS = ["reporting.health_sweep", "reporting.health_reconcile"]
EMAIL_TASKS = ["notifications.send", "notifications.send_due"]
WEBHOOK_TASKS = ["webhooks.deliver", "webhooks.sweep", "webhooks.send_notices"]


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
    assert set(HEALTH_TASKS + EMAIL_TASKS + WEBHOOK_TASKS) <= set(names)
    for name in names:
        soft, hard = effective_limits(app.tasks[name])
        assert soft and hard, f"{name} has no time limit"
        assert soft < hard, f"{name}: the soft limit must come first so the task can clean up"


def test_the_sweep_has_room_for_a_fleet_wide_outage():
    for name in HEALTH_TASKS:
        soft, hard = effective_limits(app.tasks[name])
        assert soft >= 120 and hard > soft


def test_a_sweep_ends_by_its_budget_before_its_task_is_stopped():
    # The sweep stops taking rows after NOTIFICATIONS_SWEEP_SECONDS; the row
    # in flight then takes at most one attempt (which the lease covers).
    for name in EMAIL_TASKS:
        soft, _ = effective_limits(app.tasks[name])
        assert settings.NOTIFICATIONS_SWEEP_SECONDS + settings.NOTIFICATIONS_LEASE_SECONDS < soft
    # The same for the webhooks' sweep: its budget, then one attempt.
    for name in WEBHOOK_TASKS:
        soft, _ = effective_limits(app.tasks[name])
        attempt = settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS + settings.WEBHOOKS_READ_TIMEOUT_SECONDS
        assert settings.WEBHOOKS_SWEEP_SECONDS + attempt < soft


def test_a_worker_without_queues_named_consumes_all_of_them():
    assert {queue.name for queue in app.amqp.queues.values()} == {"celery", "health", "email", "webhooks"}


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
    reporting_tasks.health_reconcile.delay()
    notification_tasks.notifications_send.delay([1, 2])
    notification_tasks.notifications_send_due.delay()
    webhook_tasks.webhooks_deliver.delay([1])
    webhook_tasks.webhooks_sweep.delay()
    webhook_tasks.webhooks_send_notices.delay()
    app.send_task("some.other_task")

    assert queued("health") == HEALTH_TASKS
    assert queued("email") == EMAIL_TASKS
    assert queued("webhooks") == WEBHOOK_TASKS
    # Anything else waits in the default queue, behind neither.
    assert queued("celery") == ["some.other_task"]


def test_a_real_worker_enforces_the_default_limits_from_the_environment(tmp_path, monkeypatch):
    """A prefork worker (as in production) with CELERY_TASK_SOFT_TIME_LIMIT=1
    and CELERY_TASK_TIME_LIMIT=3: a task past its soft limit is told and
    cleans up; one that ignores it is killed at the hard limit."""
    var, markers = tmp_path / "var", tmp_path / "markers"
    markers.mkdir()
    env = clean_env(DJANGO_SETTINGS_MODULE="config.settings.test", VAR_DIR=str(var),
                    CELERY_TASK_SOFT_TIME_LIMIT="1", CELERY_TASK_TIME_LIMIT="3")
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1",
             "--include=tests.config.sleepy_tasks", "--queues=celery", "--loglevel=INFO",
             "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        # The worker's broker: the filesystem transport in its VAR_DIR (base.py).
        # Celery prefers CELERY_BROKER_URL from the environment (CI's Redis
        # pass) to the app's own setting.
        monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
        # Not the current app: shared tasks of later tests must keep resolving to config.celery.app.
        producer = Celery("probe", broker="filesystem://", set_as_current=False)
        folder = str(var / "celery-queue")
        producer.conf.broker_transport_options = {
            "data_folder_in": folder, "data_folder_out": folder, "control_folder": str(var / "celery-control"),
            "processed_folder": str(var / "celery-processed"), "store_processed": False,
        }
        (var / "celery-queue").mkdir(parents=True, exist_ok=True)
        producer.send_task("tests.sleep_past_limits", args=[str(markers), "polite", False], queue="celery")
        producer.send_task("tests.sleep_past_limits", args=[str(markers), "stubborn", True], queue="celery")

        # The filesystem transport does not promise FIFO: either task may run
        # first, so wait for both outcomes, not for the first one. The polite
        # task's marker is written before the worker logs its failure: wait
        # for the log line too, or a slow machine reads the log too early.
        failed = r"Task tests\.sleep_past_limits\[[^]]+\] raised unexpected: SoftTimeLimitExceeded"

        def both_done():
            text = log.read_text()
            return ((markers / "polite.soft").exists() and "Hard time limit (3s) exceeded" in text
                    and re.search(failed, text) is not None)

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not both_done():
            time.sleep(0.25)
        text = log.read_text()
        assert (markers / "polite.soft").exists(), text
        assert (markers / "stubborn.soft").exists(), text
        assert "Hard time limit (3s) exceeded for tests.sleep_past_limits" in text, text
        assert not (markers / "stubborn.survived").exists()
        assert re.search(failed, text), text
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def test_with_redis_a_running_task_is_never_handed_to_a_second_worker():
    """At least once, not twice at the same time: Redis gives an unacknowledged
    task (acks late) to another worker after the visibility timeout, which
    must be longer than any task may run (its hard time limit)."""
    code = (
        "import django, json; django.setup()\n"
        "from django.conf import settings as s\n"
        "hard = [s.CELERY_TASK_TIME_LIMIT] + [a['time_limit'] for a in s.CELERY_TASK_ANNOTATIONS.values()]\n"
        "print(json.dumps([s.CELERY_BROKER_TRANSPORT_OPTIONS.get('visibility_timeout'), max(hard),"
        " s.CELERY_TASK_ACKS_LATE, s.CELERY_TASK_REJECT_ON_WORKER_LOST, s.CELERY_WORKER_PREFETCH_MULTIPLIER]))"
    )
    result = run_python(code, env=clean_env(DJANGO_SETTINGS_MODULE="config.settings.test",
                                            CELERY_BROKER_URL="redis://127.0.0.1:6379/0"))
    assert result.returncode == 0, result.stderr
    visibility, longest, acks_late, reject_on_lost, prefetch = json.loads(result.stdout.strip().splitlines()[-1])
    assert visibility > longest, f"visibility timeout {visibility} s <= the longest task's {longest} s"
    assert (acks_late, reject_on_lost, prefetch) == (True, True, 1)


@pytest.mark.parametrize("procfile", ["Procfile", "Procfile.production"])
def test_the_worker_of_each_procfile_consumes_the_email_queue(procfile):
    lines = [line for line in (REPO / procfile).read_text().splitlines() if line.startswith("worker:")]
    assert lines, f"{procfile} has no worker"
    queues = re.search(r"--queues=(\S+)", lines[0]).group(1).split(",")
    assert "email" in queues and app.conf.task_routes["notifications.send"] == {"queue": "email"}
