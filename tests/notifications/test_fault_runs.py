"""End-to-end fault runs of the e-mail outbox (docs/delivery.md's table).

Real Celery worker subprocesses (prefork, as in production) consume the
`email` and default queues from Redis and send through Django's SMTP backend
to a real SMTP server in this process (aiosmtpd, tests/notifications/
smtp_server.py) that accepts, answers 4xx for a while, refuses with 5xx,
drops the connection after DATA, or answers after the client's timeout. A
thread stands in for beat, queueing the sweep (`notifications.send_due`)
twice a second. In the broker scenarios the web side (this process: the
driver page, the report services) and that beat reach Redis through a TCP
proxy (tests/notifications/broker_proxy.py) that refuses or blackholes, and
then passes again; the workers keep their own connection.

Each scenario makes 300 report changes that e-mail a team's contacts (150
reports filed on the public driver page, 150 resolved through the report
services) and asserts: no e-mail lost (every row sent, or failed with the
server's answer for a refused mailbox, and each sent row's recipient has the
message in the SMTP server's mailbox), none stuck, duplicates only where the
delivery is at-least-once (the answer lost or late after DATA, a worker
killed mid-send, the database connection cut between send and record), and
every duplicate with the Message-ID of its original. Under a broker fault
the request path's 95th percentile stays under 50 ms.

Select with `-m faults`. Needs PostgreSQL (DATABASE_URL) and Redis
(CELERY_BROKER_URL=redis://...); skipped with a message otherwise. With
FAULT_RUNS_REPORT=<file> each scenario's figures are appended to that file.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from config.celery import app as celery_app
from core import tasks as core_tasks
from notifications.models import Notification, NotificationStatus
from reporting import services as reporting
from reporting.catalogue import Reason
from reporting.models import Report, ReportEvent
from tests.config.conftest import REPO, clean_env
from tests.factories import (
    ChargePointFactory,
    ReportContactFactory,
    ReportSettingsFactory,
    SiteFactory,
    TeamFactory,
)

from .broker_proxy import BLACKHOLE, PASS, REFUSE, BrokerProxy
from .smtp_server import DROP_AFTER_DATA, LATE, TEMPORARY, SmtpServer

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

TEAMS = 10
CHARGE_POINTS_PER_TEAM = 15  # 150 reports filed, then resolved: 300 changes
EMAIL_TIMEOUT = 1.0
# The outbox's timings for the workers, scaled down from minutes to seconds.
WORKER_SETTINGS = {
    "EMAIL_TIMEOUT": str(EMAIL_TIMEOUT),
    # Long enough that a loaded CI machine never lets a healthy send run past it
    # (a row sent twice with no fault); a killed worker still costs seconds.
    "NOTIFICATIONS_LEASE_SECONDS": "10",
    "NOTIFICATIONS_FIRST_BACKOFF_SECONDS": "1",
    "NOTIFICATIONS_SWEEP_TOLERANCE_SECONDS": "0.2",
    "NOTIFICATIONS_SWEEP_SECONDS": "5",
    "EMAIL_TASK_SOFT_TIME_LIMIT": "30",
    "EMAIL_TASK_TIME_LIMIT": "40",
    "DATABASE_CONN_MAX_AGE": "0",
}
BEAT_INTERVAL = 0.5
WORKERS = 2
DRAIN_DEADLINE = 60
REQUEST_P95_BUDGET_MS = 50


# --- services: skip with a message when one is missing -----------------------------


def _redis_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://127.0.0.1:6379/<db> to run the fault runs")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"needs Redis at {url}: {error}")
    return url


@pytest.fixture(scope="module")
def redis_url() -> str:
    return _redis_url()


@pytest.fixture(scope="module")
def postgres_url(django_db_setup, django_db_blocker) -> str:
    with django_db_blocker.unblock():
        if connections["default"].vendor != "postgresql":
            pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run the fault runs")
        db = connections["default"].settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# --- the cast: SMTP server, broker proxy, workers, beat -------------------------


@pytest.fixture(scope="module")
def smtp():
    # aiosmtpd logs every command: thousands of lines this process would format.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxy(redis_url):
    parsed = urlparse(redis_url)
    proxy = BrokerProxy(parsed.hostname or "127.0.0.1", parsed.port or 6379).start()
    yield proxy
    proxy.stop()


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (a prefork worker's pool)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class Workers:
    """Celery worker subprocesses, each in its own process group so that a
    kill reaches its pool too; stop() (a finalizer) always ends them all."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.processes: list[subprocess.Popen] = []
        self.started = 0

    def start(self) -> subprocess.Popen:
        self.started += 1
        log = self.logs / f"worker-{self.started}.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1",
                 "--queues=email,celery", f"--hostname=faults{self.started}@%h", "--loglevel=INFO",
                 "--without-heartbeat", "--without-mingle", "--without-gossip"],
                cwd=REPO, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )
        process.log = log
        self.processes.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"worker exited at start:\n{log.read_text()[-4000:]}")
            if " ready." in log.read_text() and _children(process.pid):
                return process
            time.sleep(0.2)
        raise AssertionError(f"worker not ready in 60 s:\n{log.read_text()[-4000:]}")

    def pool_processes(self) -> list[int]:
        return [pid for p in self.processes if p.poll() is None for pid in _children(p.pid)]

    def alive(self) -> list[subprocess.Popen]:
        return [p for p in self.processes if p.poll() is None]

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.log.read_text()[-3000:]}" for p in self.processes)

    def stop(self) -> None:
        for process in self.alive():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            # A pool process orphaned by a killed parent.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="module")
def workers(request, postgres_url, redis_url, smtp, tmp_path_factory):
    env = clean_env(
        DJANGO_SETTINGS_MODULE="tests.notifications.fault_settings",
        DATABASE_URL=postgres_url,
        # The workers talk to Redis directly: the proxy stands between the
        # web side (and beat) and the broker.
        CELERY_BROKER_URL=redis_url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        VAR_DIR=str(tmp_path_factory.mktemp("var")),
        **WORKER_SETTINGS,
    )
    pool = Workers(env, tmp_path_factory.mktemp("logs"))
    request.addfinalizer(pool.stop)
    for _ in range(WORKERS):
        pool.start()
    return pool


class Beat(threading.Thread):
    """Queues the sweep every BEAT_INTERVAL seconds, as celery beat would,
    through the proxy: while the broker is unreachable no sweep is queued."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopped = threading.Event()
        self.queued_at: list[float] = []  # time.monotonic() of each sweep queued

    def run(self) -> None:
        options = {"socket_timeout": 0.2, "socket_connect_timeout": 0.2, "max_retries": 0}
        while not self.stopped.wait(BEAT_INTERVAL):
            try:
                with celery_app.connection_for_write(connect_timeout=0.2, transport_options=options) as conn:
                    celery_app.send_task("notifications.send_due", connection=conn, retry=False)
                self.queued_at.append(time.monotonic())
            except Exception:  # the broker fault under test
                pass


@pytest.fixture
def eager_celery():
    """Overrides the package's: here tasks go to the real workers."""
    yield


@pytest.fixture
def stage(workers, smtp, proxy, redis_url, monkeypatch, settings):
    """Every scenario starts with an accepting SMTP server, the proxy
    passing, empty queues, the app publishing through the proxy, and beat."""
    import redis

    redis.Redis.from_url(redis_url).delete("email", "celery", "unacked", "unacked_index")
    smtp.handler.__init__()
    proxy.set_mode(PASS)
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager = False
    settings.DRIVER_REPORTS = {**settings.DRIVER_REPORTS, "rate_per_address": 10_000}
    for process in list(workers.processes):
        if process.poll() is not None:
            workers.processes.remove(process)
    while len(workers.alive()) < WORKERS:
        workers.start()
    clock = PublishClock(core_tasks.publish)
    monkeypatch.setattr(core_tasks, "publish", clock)
    beat = clock.beat = Beat()
    beat.start()
    yield clock
    beat.stopped.set()
    beat.join()
    conf.task_always_eager, conf.broker_url = saved


# --- one run -----------------------------------------------------------------------


@dataclass
class Outcome:
    scenario: str
    changes: int
    rows: int
    sent: int
    failed: int
    lost: int
    stuck: int
    duplicates: int
    request_p95_ms: float
    request_median_ms: float
    publish_p95_ms: float
    publish_max_ms: float
    filing_p95_ms: float
    resolving_p95_ms: float
    drain_seconds: float
    first_sweep_after_seconds: float | None


def _fleet(*, refused_contact: bool) -> list:
    charge_points = []
    for n in range(TEAMS):
        team = TeamFactory(name=f"Fault team {n}")
        report_settings = ReportSettingsFactory(team=team, email_updates=True)
        ReportContactFactory(settings=report_settings, name=f"Contact {n}", email=f"contact{n}@team{n}.example")
        if refused_contact:
            ReportContactFactory(settings=report_settings, name=f"Gone {n}", email=f"gone{n}@team{n}.example")
        site = SiteFactory(team=team)
        charge_points += [
            ChargePointFactory(site=site, owner=team, operator=team) for _ in range(CHARGE_POINTS_PER_TEAM)
        ]
    return charge_points


class PublishClock:
    """Wraps core.tasks.publish (what a request calls on commit) to time the
    broker's share of each change."""

    def __init__(self, publish) -> None:
        self.publish, self.spent = publish, 0.0
        self.beat: Beat | None = None

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.publish(*args, **kwargs)
        finally:
            self.spent += time.perf_counter() - started


def _changes(charge_points, clock: PublishClock, *, during=None) -> tuple[list[float], list[float]]:
    """File a report on each charge point through the driver page, then
    resolve each through the report services: 2 changes per charge point,
    each e-mailing the team's contacts. Returns each change's seconds, the
    on-commit publish included, and the publish's own seconds.
    ``during(i)`` runs before change i."""
    elapsed, publishing = [], []

    def timed(change) -> None:
        if during:
            during(len(elapsed))
        clock.spent = 0.0
        started = time.perf_counter()
        change()
        elapsed.append(time.perf_counter() - started)
        publishing.append(clock.spent)

    for i, cp in enumerate(charge_points):
        client = Client(REMOTE_ADDR=f"10.9.{i // 200}.{i % 200 + 1}")

        def file_report(client=client, cp=cp):
            response = client.post(
                reverse("drivers:report", args=[cp.public_code]),
                {"reason": Reason.NOT_WORKING, "description": "The screen is black"},
            )
            assert response.status_code == 303, response.content[:500]

        timed(file_report)
    for report in Report.objects.filter(charge_point__in=charge_points).select_related("charge_point"):
        timed(lambda report=report: reporting.report_resolve(report=report, by=None, note="Restarted remotely"))
    return elapsed, publishing


def _settled(expected_rows: int) -> bool:
    rows = Notification.objects.filter(team__name__startswith="Fault team")
    return (
        rows.count() == expected_rows
        and not rows.exclude(status__in=[NotificationStatus.SENT, NotificationStatus.FAILED]).exists()
        and not ReportEvent.objects.filter(processed_at__isnull=True).exists()
    )


def _p95_ms(seconds: list[float]) -> float:
    return round(statistics.quantiles(seconds, n=20)[18] * 1000, 1)


def _run(name, smtp, workers, clock, *, refused_contact=False, during=None, fault_end=None) -> Outcome:
    charge_points = _fleet(refused_contact=refused_contact)
    contacts = 2 if refused_contact else 1
    elapsed, publishing = _changes(charge_points, clock, during=during)
    changes = len(elapsed)
    expected_rows = changes * contacts
    if fault_end:
        fault_end()
    ended = time.monotonic()
    while not _settled(expected_rows) and time.monotonic() - ended < DRAIN_DEADLINE:
        time.sleep(0.25)
    drain = time.monotonic() - ended

    rows = list(Notification.objects.filter(team__name__startswith="Fault team"))
    copies = smtp.handler.copies_by_notification()
    lost = [
        row.pk for row in rows
        if row.status == NotificationStatus.SENT
        and not any(row.recipient_email in (m["To"] or "") for m in copies.get(str(row.pk), []))
    ] + [None] * max(expected_rows - len(rows), 0)
    stuck = [row.pk for row in rows if row.status not in (NotificationStatus.SENT, NotificationStatus.FAILED)]
    # Every copy of a row, first or repeat, carries the row's one Message-ID.
    for row in rows:
        for message in copies.get(str(row.pk), []):
            assert message["Message-ID"] == row.email_message_id, (row.pk, message["Message-ID"])
    outcome = Outcome(
        scenario=name,
        changes=changes,
        rows=len(rows),
        sent=sum(row.status == NotificationStatus.SENT for row in rows),
        failed=sum(row.status == NotificationStatus.FAILED for row in rows),
        lost=len(lost),
        stuck=len(stuck),
        duplicates=sum(len(copies.get(str(row.pk), [])) - 1 for row in rows if copies.get(str(row.pk))),
        request_p95_ms=_p95_ms(elapsed),
        filing_p95_ms=_p95_ms(elapsed[: len(charge_points)]),
        resolving_p95_ms=_p95_ms(elapsed[len(charge_points):]),
        request_median_ms=round(statistics.median(elapsed) * 1000, 1),
        publish_p95_ms=_p95_ms(publishing),
        publish_max_ms=round(max(publishing) * 1000, 1),
        drain_seconds=round(drain, 1),
        first_sweep_after_seconds=next(
            (round(at - ended, 1) for at in list(clock.beat.queued_at) if at >= ended), None
        ),
    )
    print(f"\n{json.dumps(asdict(outcome))}")
    if os.environ.get("FAULT_RUNS_REPORT"):
        with open(os.environ["FAULT_RUNS_REPORT"], "a") as report:
            report.write(json.dumps(asdict(outcome)) + "\n")
    assert changes >= 300
    assert outcome.lost == 0 and outcome.stuck == 0, (outcome, workers.log_tail())
    return outcome


# --- the scenarios -------------------------------------------------------------------


def test_all_accepted(stage, smtp, workers):
    outcome = _run("accept", smtp, workers, stage)
    assert outcome.sent == outcome.rows == 300
    assert outcome.duplicates == 0


def test_smtp_4xx_for_a_while_then_accepted(stage, smtp, workers):
    smtp.handler.fault(TEMPORARY, times=150)  # the first 150 recipients are refused for now
    outcome = _run("smtp 4xx for 150 sends", smtp, workers, stage)
    assert outcome.sent == outcome.rows == 300
    assert outcome.duplicates == 0
    assert Notification.objects.filter(attempts__gt=1).exists()


def test_smtp_5xx_fails_the_refused_mailbox_at_once(stage, smtp, workers):
    smtp.handler.refused = {f"gone{n}@team{n}.example" for n in range(TEAMS)}
    outcome = _run("smtp 5xx for one contact of each team", smtp, workers, stage, refused_contact=True)
    assert outcome.rows == 600 and outcome.sent == 300 and outcome.failed == 300
    failed = Notification.objects.filter(status=NotificationStatus.FAILED)
    assert set(failed.values_list("recipient_email", flat=True)) == smtp.handler.refused
    assert set(failed.values_list("attempts", flat=True)) == {1}  # not retried
    assert "550 5.1.1 No such mailbox here" in failed.first().last_error
    assert outcome.duplicates == 0


def test_connection_dropped_after_data(stage, smtp, workers):
    smtp.handler.fault(DROP_AFTER_DATA, times=60)
    outcome = _run("connection dropped after DATA (60 times)", smtp, workers, stage)
    assert outcome.sent == outcome.rows == 300
    # Each dropped answer costs exactly one repeat, with the same Message-ID.
    assert outcome.duplicates == 60


def test_answer_after_the_timeout(stage, smtp, workers):
    smtp.handler.late_seconds = EMAIL_TIMEOUT + 0.5
    smtp.handler.fault(LATE, times=20)
    outcome = _run("answer after EMAIL_TIMEOUT (20 times)", smtp, workers, stage)
    assert outcome.sent == outcome.rows == 300
    assert outcome.duplicates == 20


def test_worker_killed_mid_send(stage, smtp, workers):
    smtp.handler.delay_seconds = 0.03  # a send is in flight most of the time
    kills = []

    def kill(change: int) -> None:
        # Three times, once the mail flows: SIGKILL a pool process (the one
        # sending); the worker replaces it, and redelivers its task.
        if change in (200, 240, 280):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(smtp.handler.received) < change - 150:
                time.sleep(0.05)
            pool = workers.pool_processes()
            os.kill(pool[len(kills) % len(pool)], signal.SIGKILL)
            kills.append(change)

    outcome = _run("worker's pool process killed mid-send (3 times)", smtp, workers, stage, during=kill)
    assert len(kills) == 3
    assert outcome.sent == outcome.rows == 300
    assert outcome.duplicates <= len(kills)  # at most the e-mail each killed process held


def test_database_connection_cut_between_send_and_record(stage, smtp, workers):
    smtp.handler.delay_seconds = 0.05  # the cut lands while a send waits for its answer
    cuts = []

    def cut(change: int) -> None:
        if change % 40 == 20 and change >= 180:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                cuts.append(cursor.fetchone()[0])

    outcome = _run("workers' database connections cut (3 times)", smtp, workers, stage, during=cut)
    assert len(cuts) == 3 and sum(cuts) >= 1
    assert outcome.sent == outcome.rows == 300
    assert outcome.duplicates <= sum(cuts)


@pytest.fixture
def through_proxy(stage, proxy, redis_url, monkeypatch):
    """The web side (this process) and beat reach the broker through the
    proxy. (Celery reads CELERY_BROKER_URL from the environment first.)"""
    url = f"redis://127.0.0.1:{proxy.port}/{urlparse(redis_url).path.lstrip('/') or 0}"
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    celery_app.conf.broker_url = url
    return proxy


@pytest.mark.parametrize("mode", [REFUSE, BLACKHOLE])
def test_broker_unreachable_from_the_web(stage, smtp, workers, through_proxy, mode):
    proxy = through_proxy
    proxy.set_mode(mode)
    outcome = _run(f"broker {mode}s the web side and beat", smtp, workers, stage, fault_end=lambda: proxy.set_mode(PASS))
    assert outcome.sent == outcome.rows == 300
    assert outcome.duplicates == 0
    # The broker's share of a request: the first publish of each pause
    # pays the timeout (50 ms per step), every other request skips it.
    assert outcome.publish_p95_ms < REQUEST_P95_BUDGET_MS, outcome
