"""GET /healthz (config/health.py): the database and the broker, for real."""

import socket
import threading
import time

import pytest
from django.db.utils import ConnectionHandler

from config import health
from config.celery import app

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def broker_url(monkeypatch):
    """Points the app at another broker for one test; forgets the cached
    connections afterwards, as Celery does after a fork. (Celery reads
    CELERY_BROKER_URL from the environment before its own setting.)"""
    saved = app.conf.broker_url, app.conf.broker_transport_options

    def use(url):
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        app.conf.broker_url, app.conf.broker_transport_options = url, {}
        app._after_fork()

    yield use
    app.conf.broker_url, app.conf.broker_transport_options = saved
    app._after_fork()


@pytest.fixture
def hanging_broker():
    """A server that accepts TCP connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


@pytest.fixture
def unreachable_database(settings, monkeypatch):
    """The health check's database connection points where no database is:
    a closed port on PostgreSQL, a file in a folder that does not exist on SQLite."""
    config = {**settings.DATABASES["default"]}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["NAME"] = "/nonexistent/folder/db.sqlite3"
    else:
        config["HOST"], config["PORT"] = "127.0.0.1", closed_port()
        config["PASSWORD"] = "db-password-never-shown"
    handler = ConnectionHandler({"default": config})
    monkeypatch.setattr(health, "connection", handler["default"])
    yield
    handler["default"].close()


def test_healthy_answers_200_with_each_check(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {"database": "ok", "broker": "ok"}


def test_needs_no_login_and_no_csrf(client):
    # An anonymous client, as a load balancer is; HEAD works too.
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_a_refused_broker_answers_503_without_its_address_or_password(client, broker_url):
    port = closed_port()
    broker_url(f"redis://:broker-secret@127.0.0.1:{port}/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "ok"
    text = response.content.decode()
    assert "broker-secret" not in text and str(port) not in text and "127.0.0.1" not in text


def test_a_hanging_broker_fails_the_probe_within_seconds(client, broker_url, hanging_broker):
    broker_url(f"redis://127.0.0.1:{hanging_broker}/0")
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "unavailable"
    assert elapsed < health.BROKER_TIMEOUT * 2 + 1


def test_an_unreachable_database_answers_503_without_its_password(client, unreachable_database):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["status"] == "unavailable"
    assert body["checks"]["broker"]["status"] == "ok"
    assert "db-password-never-shown" not in response.content.decode()
    assert "nonexistent" not in response.content.decode()


def test_the_outbox_figures_show_the_oldest_waiting_email_and_the_last_hours_failures(client):
    from datetime import timedelta

    from django.utils import timezone

    from notifications.models import Notification, NotificationStatus
    from reporting.models import EventKind, ReportEvent
    from tests.factories import ReportFactory

    report = ReportFactory()
    event = ReportEvent.objects.create(report=report, kind=EventKind.CREATED)

    def NotificationFactory(**fields):
        n = Notification.objects.count()
        return Notification.objects.create(
            report=report, event=event, kind="created", recipient_email=f"c{n}@example.com", language="en",
            subject="s", body_text="t", body_html="h", **fields,
        )

    assert client.get("/healthz").json()["outbox"] == {"oldest_pending_seconds": None, "failed_last_hour": 0}

    now = timezone.now()
    NotificationFactory(status=NotificationStatus.PENDING, created_at=now - timedelta(minutes=7))
    NotificationFactory(status=NotificationStatus.SENDING, created_at=now - timedelta(minutes=3))
    NotificationFactory(status=NotificationStatus.SENT, created_at=now - timedelta(hours=5))
    NotificationFactory(status=NotificationStatus.FAILED)
    old_failure = NotificationFactory(status=NotificationStatus.FAILED)
    Notification.objects.filter(pk=old_failure.pk).update(updated_at=now - timedelta(hours=2))

    response = client.get("/healthz")

    assert response.status_code == 200
    outbox = response.json()["outbox"]
    assert 7 * 60 <= outbox["oldest_pending_seconds"] < 8 * 60
    assert outbox["failed_last_hour"] == 1


def test_the_health_engine_figures_say_how_far_behind_it_is_and_what_the_reconciliation_found(client):
    from datetime import timedelta

    from django.utils import timezone

    from chargepoints.models import ChargePoint
    from chargepoints.services import telemetry_record_batch
    from reporting.health.engine import health_pass, health_reconcile
    from tests.factories import ChargePointFactory

    assert client.get("/healthz").json()["health_engine"] == {
        "high_water_mark_seconds": None, "reconciled_seconds": None, "marks_waiting": 0, "deadlines_due": 0,
        "differences_last": 0, "differences_total": 0}

    now = timezone.now()
    health_pass(now=now - timedelta(minutes=30))
    cp = ChargePointFactory(state="available")
    telemetry_record_batch(events=[{"event_id": "e1", "type": "state_change", "ocpp_id": cp.ocpp_id,
                                    "state": "error", "occurred_at": (now - timedelta(minutes=20)).isoformat()}])
    hidden = ChargePointFactory(state="available")
    ChargePoint.objects.filter(pk=hidden.pk).update(state="disconnected", state_since=now - timedelta(hours=1))
    figures = client.get("/healthz").json()["health_engine"]
    assert (figures["marks_waiting"], figures["deadlines_due"]) == (1, 0)
    assert 30 * 60 <= figures["high_water_mark_seconds"] < 31 * 60

    health_reconcile(now=now - timedelta(minutes=5))  # finds the charge point changed behind its back

    figures = client.get("/healthz").json()["health_engine"]
    assert figures["marks_waiting"] == 0
    assert 5 * 60 <= figures["reconciled_seconds"] < 6 * 60
    assert (figures["differences_last"], figures["differences_total"]) == (1, 1)
