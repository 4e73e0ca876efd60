"""`make run`'s demo, end to end: the web server, the worker and beat, the
OCPP gateway, the fleet simulator over OCPP and the demo drivers, started as
the separate processes they are, at a high DEMO_SPEED. Within a bounded time
every system reason is filed, a driver's report comes in through the page
and through the app, a support conversation arrives by e-mail with the
driver's reply, and the outbox has sent e-mails. Needs PostgreSQL: the
processes share the test database, which SQLite would lock."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from notifications.models import Notification
from reporting.catalogue import Reason, Source
from reporting.demo import demo_platform_key, seed_demo
from reporting.models import Report, ReportMessage, ReportReporter, ReportState
from tests.gateway.test_command import free_port

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_REASONS = {Reason.DISCONNECTED, Reason.IN_ERROR, Reason.FAILED_CHARGES, Reason.BAD_WIFI, Reason.BAD_CELL_SIGNAL}
DEADLINE_SECONDS = 240  # a loaded machine; a quiet one sees everything in about 90 s

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _seen(start) -> dict:
    new = Report.objects.filter(created_at__gte=start)
    support = new.filter(source=Source.SUPPORT).first()
    return {
        "system": set(new.filter(source=Source.SYSTEM).values_list("reason", flat=True)),
        "resolved": set(new.filter(source=Source.SYSTEM, state=ReportState.RESOLVED).values_list("reason", flat=True)),
        "page": ReportReporter.objects.filter(report__in=new, channel="web").exists(),
        "app": ReportReporter.objects.filter(report__in=new, channel="app", api_key__is_platform=True).exists(),
        "conversation": support is not None and support.messages.filter(
            sender=ReportMessage.Sender.DRIVER, channel="email").count() >= 2,
        "sent": Notification.objects.filter(created_at__gte=start, status="sent").exclude(body_text="").exists(),
    }


def test_the_demo_shows_every_channel_within_minutes(require_postgres, tmp_path):
    seed_demo()
    key = demo_platform_key(key_file=tmp_path / "demo-platform-key")
    # The sweep every 10 s instead of every minute (migration 0003's schedule).
    every_10s, _ = IntervalSchedule.objects.get_or_create(every=10, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(name="Health sweep", defaults={
        "task": "reporting.health_sweep", "interval": every_10s, "enabled": True})
    web, ocpp = free_port(), free_port()
    env = {key_: value for key_, value in os.environ.items()
           if key_ not in {"CELERY_BROKER_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": _database_url(),
                "VAR_DIR": str(tmp_path), "DEMO_SPEED": "30", "DEMO_PLATFORM_KEY": key,
                "SITE_URL": f"http://127.0.0.1:{web}", "PYTHONUNBUFFERED": "1"})
    manage = [sys.executable, "manage.py"]
    commands = {
        "web": [*manage, "runserver", "--noreload", f"127.0.0.1:{web}"],
        "worker": [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                   "--queues=celery,health,email,webhooks", "--loglevel=WARNING"],
        "beat": [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING",
                 "--schedule", str(tmp_path / "beat-schedule")],
        "gateway": [*manage, "ocpp_gateway", "--host", "127.0.0.1", "--port", str(ocpp)],
        "simulator": [*manage, "simulate_fleet", "--ocpp", f"ws://127.0.0.1:{ocpp}", "--interval", "1"],
        "drivers": [*manage, "simulate_drivers", "--url", f"http://127.0.0.1:{web}", "--interval", "3"],
    }
    start = timezone.now()
    processes = {}
    try:
        for name, command in commands.items():
            log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
            processes[name] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True)
            if name == "gateway":
                time.sleep(2)  # the simulator connects to it at once
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            seen = _seen(start)
            done = (seen["system"] == SYSTEM_REASONS and seen["resolved"] and seen["page"] and seen["app"]
                    and seen["conversation"] and seen["sent"])
            if done or time.monotonic() > deadline:
                break
            for name, process in processes.items():
                assert process.poll() is None, f"{name} stopped:\n" + (tmp_path / f"{name}.log").read_text()[-3000:]
            time.sleep(3)
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        connection.close()

    logs = "\n".join(f"--- {n}\n" + (tmp_path / f"{n}.log").read_text()[-1500:] for n in commands)
    assert seen["system"] == SYSTEM_REASONS, logs
    assert seen["resolved"], logs
    assert seen["page"] and seen["app"], logs
    assert seen["conversation"], logs
    assert seen["sent"], logs
