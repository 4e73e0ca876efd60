"""core/tasks.py: a request never waits on the broker. Filing a report
publishes its task on commit; with a broker that refuses connections, or
accepts them and never answers, the request still returns at once and what
it wrote is committed (the outbox's sweep sends it later)."""

import socket
import time

import pytest
from django.test import Client
from django.urls import reverse

from config.celery import app as celery_app
from core.tasks import publish
from reporting.catalogue import Reason
from reporting.models import Report, ReportEvent
from tests.factories import ChargePointFactory, SiteFactory, TeamFactory

pytestmark = pytest.mark.django_db(transaction=True)

# What filing a report may take in all, broker fault included, on a busy
# test machine; the publish itself gives up after TASK_PUBLISH_TIMEOUT_SECONDS.
REQUEST_BUDGET = 0.5


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return port  # nothing listens there any more: connections are refused


@pytest.fixture
def blackhole_port():
    """Accepts TCP connections (the kernel completes them from the backlog)
    and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def broker(monkeypatch):
    """Points the app at a faulty broker for one test. (Celery reads
    CELERY_BROKER_URL from the environment before its own setting, so CI's
    real broker must be replaced there too.)"""
    conf = celery_app.conf
    previous = conf.task_always_eager, conf.broker_url
    conf.task_always_eager = False

    def point_at(port: int) -> None:
        url = f"redis://127.0.0.1:{port}/0"
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        conf.broker_url = url

    yield point_at
    conf.task_always_eager, conf.broker_url = previous


def file_a_report() -> float:
    """Seconds the second of two reports takes to file: the first loads the
    URLconf, templates and the broker's client library, once per process."""
    owner = TeamFactory(country="DK")
    elapsed = []
    for _ in range(2):
        cp = ChargePointFactory(site=SiteFactory(team=owner), operator=TeamFactory(country="DK"))
        started = time.perf_counter()
        response = Client().post(
            reverse("drivers:report", args=[cp.public_code]),
            {"reason": Reason.NOT_WORKING, "description": "Screen is black"},
        )
        elapsed.append(time.perf_counter() - started)
        assert response.status_code == 303
    return elapsed[-1]


@pytest.mark.parametrize("fault", ["closed_port", "blackhole_port"])
def test_filing_a_report_does_not_wait_for_a_broker_that_is_down_or_hangs(fault, request, broker):
    broker(request.getfixturevalue(fault))

    elapsed = file_a_report()
    print(f"filing with the broker {fault}: {elapsed * 1000:.0f} ms")

    assert elapsed < REQUEST_BUDGET, f"filing took {elapsed:.3f} s with the broker {fault}"
    assert Report.objects.count() == 2
    # Committed, and left for the sweep: the timeline row is the outbox.
    assert ReportEvent.objects.filter(processed_at__isnull=True).count() == 2


def test_a_publish_to_a_hanging_broker_gives_up_within_its_timeout(blackhole_port, broker, settings):
    broker(blackhole_port)
    settings.TASK_PUBLISH_TIMEOUT_SECONDS = 0.05

    started = time.perf_counter()
    assert publish("notifications.process_events") is False
    assert time.perf_counter() - started < 0.3


def test_after_a_failed_publish_the_process_leaves_the_broker_alone_for_a_pause(
    blackhole_port, broker, settings, monkeypatch
):
    broker(blackhole_port)
    settings.TASK_PUBLISH_TIMEOUT_SECONDS = 0.05
    settings.TASK_PUBLISH_PAUSE_SECONDS = 5
    assert publish("notifications.process_events") is False  # pays the timeout once

    started = time.perf_counter()
    assert [publish("notifications.process_events") for _ in range(20)] == [False] * 20
    assert time.perf_counter() - started < 0.05  # no connection tried at all

    # After the pause the broker is tried again.
    clock = time.monotonic()
    monkeypatch.setattr("core.tasks.time.monotonic", lambda: clock + 6)
    attempts = []
    monkeypatch.setattr(celery_app, "connection_for_write", lambda **kw: attempts.append(kw) or 1 / 0)
    assert publish("notifications.process_events") is False
    assert len(attempts) == 1
