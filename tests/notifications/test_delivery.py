"""notifications/services/ under faults: one Message-ID per notification
on every retry, permanent SMTP refusals failed at once, the lease and the
sweep's pace. The SMTP tests talk to a real server in this process."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from notifications import checks, events, services
from notifications.models import Notification, NotificationStatus
from reporting import services as reporting
from reporting.catalogue import Reason, Source
from tests.factories import ChargePointFactory, SiteFactory

from .smtp_server import ACCEPT, DROP_AFTER_DATA, PERMANENT, TEMPORARY, SmtpServer

pytestmark = pytest.mark.django_db


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def pending_rows(fleet, capture):
    """A filed report's outbox rows, with their send task lost."""
    with capture(execute=False):
        report = reporting.report_create(charge_point=fleet.charge_point, source=Source.USER, reason=Reason.BROKEN)
        events.notifications_process_events()
    return list(Notification.objects.filter(report=report).order_by("id"))


# --- one identity per message --------------------------------------------------

ACCEPTED = []  # what the flaky provider below took in, lost answer or not


class AcceptedThenLostBackend(BaseEmailBackend):
    """A provider that takes the message in and then loses its answer (a
    timeout, a dropped connection) on the first attempt of each row."""

    def send_messages(self, messages):
        for message in messages:
            row = Notification.objects.get(pk=message.extra_headers["X-Report-Notification-Id"])
            # The Message-ID is in the database before the provider sees it.
            assert row.email_message_id == message.extra_headers["Message-ID"]
            ACCEPTED.append(message)
            if row.attempts == 1:
                raise TimeoutError("The provider took the message and never answered")
        return len(messages)


def test_a_send_lost_after_the_provider_accepted_is_retried_with_the_same_message_id(
    fleet, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.AcceptedThenLostBackend"
    ACCEPTED.clear()
    row = pending_rows(fleet, django_capture_on_commit_callbacks)[0]

    assert services.notification_send(notification_id=row.pk) == NotificationStatus.PENDING
    # The row goes out again; the report's other row has its first, lost, attempt.
    assert services.notifications_send_due(now=later(60)) == {
        NotificationStatus.SENT: 1,
        NotificationStatus.PENDING: 1,
    }

    copies = [m for m in ACCEPTED if m.extra_headers["X-Report-Notification-Id"] == str(row.pk)]
    assert len(copies) == 2
    assert copies[0].extra_headers["Message-ID"] == copies[1].extra_headers["Message-ID"]
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert copies[0].extra_headers["Message-ID"] == row.email_message_id
    assert row.email_message_id.startswith(f"<notification-{row.pk}.") and row.email_message_id.endswith(">")


def test_every_backend_sends_the_rows_message_id_and_id_header(fleet, django_capture_on_commit_callbacks):
    rows = pending_rows(fleet, django_capture_on_commit_callbacks)

    services.notifications_send_due(now=later(1))

    by_id = {m.extra_headers["X-Report-Notification-Id"]: m for m in mail.outbox}
    for row in rows:
        row.refresh_from_db()
        assert by_id[str(row.pk)].extra_headers["Message-ID"] == row.email_message_id
        assert row.message_id  # the provider's own id, which its tracking events quote


# --- a real SMTP server ---------------------------------------------------------


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 2
    yield server
    server.stop()


def test_an_smtp_send_records_the_message_id_it_sent(fleet, django_capture_on_commit_callbacks, smtp):
    row = pending_rows(fleet, django_capture_on_commit_callbacks)[0]

    assert services.notification_send(notification_id=row.pk) == NotificationStatus.SENT

    row.refresh_from_db()
    [received] = [m for m in smtp.handler.received if m["X-Report-Notification-Id"] == str(row.pk)]
    assert received["Message-ID"] == row.email_message_id == row.message_id
    assert row.esp_name == "smtp"


def test_smtp_dropping_the_connection_after_data_resends_the_same_message_id(
    fleet, django_capture_on_commit_callbacks, smtp
):
    row = pending_rows(fleet, django_capture_on_commit_callbacks)[0]
    smtp.handler.mode = DROP_AFTER_DATA

    assert services.notification_send(notification_id=row.pk) == NotificationStatus.PENDING
    smtp.handler.mode = ACCEPT
    assert services.notification_send(notification_id=row.pk, now=later(60)) == NotificationStatus.SENT

    copies = [m for m in smtp.handler.received if m["X-Report-Notification-Id"] == str(row.pk)]
    assert len(copies) == 2  # at least once: the server had the first copy
    assert copies[0]["Message-ID"] == copies[1]["Message-ID"]


def test_smtp_5xx_fails_the_row_at_once_with_the_servers_answer(fleet, django_capture_on_commit_callbacks, smtp):
    row = pending_rows(fleet, django_capture_on_commit_callbacks)[0]
    smtp.handler.mode = PERMANENT

    assert services.notification_send(notification_id=row.pk) == NotificationStatus.FAILED

    row.refresh_from_db()
    assert row.status == NotificationStatus.FAILED
    assert row.attempts == 1
    assert "550 5.1.1 No such mailbox here" in row.last_error
    smtp.handler.mode = ACCEPT
    assert services.notifications_send_due(now=later(3600)) == {NotificationStatus.SENT: 1}  # the other row only


def test_smtp_4xx_is_retried_until_the_server_accepts(fleet, django_capture_on_commit_callbacks, smtp):
    row = pending_rows(fleet, django_capture_on_commit_callbacks)[0]
    smtp.handler.mode = TEMPORARY

    assert services.notification_send(notification_id=row.pk) == NotificationStatus.PENDING
    row.refresh_from_db()
    assert "451 4.3.0" in row.last_error

    smtp.handler.mode = ACCEPT
    assert services.notification_send(notification_id=row.pk, now=later(60)) == NotificationStatus.SENT
    assert [m["X-Report-Notification-Id"] for m in smtp.handler.received].count(str(row.pk)) == 1


# --- the lease ---------------------------------------------------------------------


def test_the_default_lease_covers_one_attempt(settings):
    assert checks.check_lease_covers_one_attempt() == []


@pytest.mark.parametrize(
    "backend, timeouts, lease",
    [
        ("django.core.mail.backends.smtp.EmailBackend", {"EMAIL_TIMEOUT": 45}, 60),
        ("anymail.backends.postmark.EmailBackend", {"ANYMAIL": {"REQUESTS_TIMEOUT": (10, 30)}}, 60),
    ],
)
def test_a_lease_shorter_than_one_attempt_is_refused_at_start_up(settings, backend, timeouts, lease):
    settings.EMAIL_BACKEND = backend
    for name, value in timeouts.items():
        setattr(settings, name, value)
    settings.NOTIFICATIONS_LEASE_SECONDS = lease

    [error] = checks.check_lease_covers_one_attempt()

    assert error.id == "notifications.E001"
    assert "NOTIFICATIONS_LEASE_SECONDS (60)" in error.msg


def test_a_send_without_a_timeout_is_refused_at_start_up(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_TIMEOUT = None

    assert [error.id for error in checks.check_lease_covers_one_attempt()] == ["notifications.E002"]


def test_a_dead_workers_row_goes_out_again_within_two_minutes(fleet, django_capture_on_commit_callbacks):
    row = pending_rows(fleet, django_capture_on_commit_callbacks)[0]
    assert services.notification_claim(notification_id=row.pk) is not None  # the worker then died

    # Sweeps run every minute: the first one after the lease takes the row.
    assert services.notifications_send_due(now=later(30)).get(NotificationStatus.SENT) == 1  # the other row
    assert services.notifications_send_due(now=later(90)) == {NotificationStatus.SENT: 1}
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT


# --- the sweep's pace ----------------------------------------------------------------


def backlog(fleet, capture, count: int) -> list[int]:
    """``count`` pending rows, as an outage leaves them."""
    template = pending_rows(fleet, capture)[0]
    Notification.objects.exclude(pk=template.pk).filter(report=template.report).delete()
    rows = []
    for n in range(count - 1):
        row = Notification.objects.get(pk=template.pk)
        row.pk = None
        row.recipient_email = f"contact{n}@example.com"
        rows.append(row)
    Notification.objects.bulk_create(rows)
    return list(Notification.objects.filter(report=template.report).values_list("pk", flat=True))


def test_one_sweep_drains_a_backlog_of_several_batches(fleet, django_capture_on_commit_callbacks):
    ids = backlog(fleet, django_capture_on_commit_callbacks, 250)

    counts = services.notifications_send_due(now=later(1), batch=100)

    assert counts == {NotificationStatus.SENT: 250}
    assert Notification.objects.filter(pk__in=ids, status=NotificationStatus.SENT).count() == 250
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 250


def test_a_sweep_stops_when_its_time_budget_is_spent(fleet, django_capture_on_commit_callbacks):
    ids = backlog(fleet, django_capture_on_commit_callbacks, 30)

    assert services.notifications_send_due(now=later(1), budget_seconds=0) == {}
    assert Notification.objects.filter(pk__in=ids, status=NotificationStatus.PENDING).count() == 30


def test_a_retry_due_by_the_next_sweep_is_sent_by_it(fleet, django_capture_on_commit_callbacks, provider):
    row = pending_rows(fleet, django_capture_on_commit_callbacks)[0]
    sweep = timezone.now()
    provider.fail_next(1, TimeoutError("provider slow"))
    assert services.notification_send(notification_id=row.pk, now=sweep + timedelta(seconds=2)) == (
        NotificationStatus.PENDING
    )

    # The next sweep, a minute after the one that failed, starts a moment
    # before the one-minute backoff is over; it sends the row all the same.
    services.notifications_send_due(now=sweep + timedelta(seconds=60))

    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT


def test_a_sweep_tolerance_as_long_as_the_first_backoff_is_refused_at_start_up(settings):
    assert checks.check_sweep_tolerance_is_under_the_first_backoff() == []
    settings.NOTIFICATIONS_SWEEP_TOLERANCE_SECONDS = 60

    assert [e.id for e in checks.check_sweep_tolerance_is_under_the_first_backoff()] == ["notifications.E003"]


def test_a_sweep_tries_a_failing_row_once_per_run(fleet, django_capture_on_commit_callbacks, provider):
    rows = pending_rows(fleet, django_capture_on_commit_callbacks)
    provider.down()

    assert services.notifications_send_due(now=later(1)) == {NotificationStatus.PENDING: len(rows)}
    assert provider.calls == len(rows)


# --- a sweep's pace ----------------------------------------------------------------


def more_pending_rows(fleet, capture, reports: int) -> list[Notification]:
    """Rows of ``reports`` new reports (each e-mails the operator's two contacts)."""
    rows = []
    for _ in range(reports):
        cp = ChargePointFactory(site=SiteFactory(team=fleet.owner), owner=fleet.owner, operator=fleet.operator)
        with capture(execute=False):
            report = reporting.report_create(charge_point=cp, source=Source.USER, reason=Reason.BROKEN)
            events.notifications_process_events()
        rows += Notification.objects.filter(report=report).order_by("id")
    return rows


def test_a_sweep_sends_its_batch_on_one_smtp_connection(fleet, django_capture_on_commit_callbacks, smtp):
    rows = more_pending_rows(fleet, django_capture_on_commit_callbacks, 3)
    smtp.handler.fault(TEMPORARY, times=1)  # the first recipient is refused for now

    counts = services.notifications_send_due(now=later(1))

    assert counts == {NotificationStatus.PENDING: 1, NotificationStatus.SENT: 5}
    # One conversation, and a new one after the failed send (never reused broken).
    assert smtp.handler.sessions == 2
    sent = Notification.objects.filter(status=NotificationStatus.SENT)
    assert {m["X-Report-Notification-Id"] for m in smtp.handler.received} == {str(r.pk) for r in sent}
    assert len(rows) == 6


LEASES_AT_SEND = []


class SlowBackend(BaseEmailBackend):
    """A provider taking 0.4 s per e-mail; notes how much lease each row has
    left when its e-mail goes out."""

    def send_messages(self, messages):
        for message in messages:
            row = Notification.objects.get(pk=message.extra_headers["X-Report-Notification-Id"])
            LEASES_AT_SEND.append((row.claimed_until - timezone.now()).total_seconds())
            time.sleep(0.4)
        return len(messages)


def test_a_sweep_slower_than_the_lease_sends_every_row_within_its_lease(
    fleet, django_capture_on_commit_callbacks, settings
):
    """Each row's lease starts at its own claim: dated from the batch's
    start, the rows at the end of a slow batch would be claimed with their
    lease already over, free for a second sweep to send at the same time."""
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    settings.NOTIFICATIONS_LEASE_SECONDS = 1
    LEASES_AT_SEND.clear()
    more_pending_rows(fleet, django_capture_on_commit_callbacks, 3)

    assert services.notifications_send_due() == {NotificationStatus.SENT: 6}  # 2.4 s: longer than a lease
    assert len(LEASES_AT_SEND) == 6
    assert min(LEASES_AT_SEND) > 0.5, LEASES_AT_SEND
