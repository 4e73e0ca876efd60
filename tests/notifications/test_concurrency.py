"""Several workers sending the same outbox rows at once, on PostgreSQL where
they really run in parallel: every e-mail still goes out exactly once."""

import random
import time
from collections import Counter

import pytest
from anymail.backends.test import EmailBackend as AnymailTestBackend
from django.core import mail

from notifications import services
from notifications.models import Notification, NotificationStatus
from notifications.services import queueing
from reporting import services as reporting
from reporting.catalogue import Reason, Source
from tests.concurrency import run_at_once
from tests.factories import ChargePointFactory, ReportContactFactory, ReportSettingsFactory, TeamFactory

REPORTS = 15
CONTACTS = 3


@pytest.fixture
def outbox_rows(monkeypatch) -> list[int]:
    """REPORTS reports with CONTACTS contacts each, their rows committed and
    pending (the on-commit task is held back so the workers below race)."""
    monkeypatch.setattr(queueing, "enqueue_send", lambda ids: None)
    team = TeamFactory()
    team_settings = ReportSettingsFactory(team=team)
    for n in range(CONTACTS):
        ReportContactFactory(settings=team_settings, email=f"tech{n}@example.com")
    for _ in range(REPORTS):
        reporting.report_create(charge_point=ChargePointFactory(site__team=team), source=Source.USER, reason=Reason.BROKEN)
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert len(ids) == REPORTS * CONTACTS
    return ids


@pytest.fixture
def slow_provider(monkeypatch):
    """A provider that takes a few milliseconds, so the workers overlap."""
    original = AnymailTestBackend.post_to_esp

    def post_to_esp(backend, payload, message):
        time.sleep(random.uniform(0.001, 0.01))
        return original(backend, payload, message)

    monkeypatch.setattr(AnymailTestBackend, "post_to_esp", post_to_esp)


@pytest.mark.django_db(transaction=True)
def test_two_workers_and_the_sweep_sending_the_same_rows_send_each_email_once(
    require_postgres, outbox_rows, slow_provider
):
    shuffled = random.sample(outbox_rows, len(outbox_rows))

    run_at_once(
        lambda: services.notifications_send_many(notification_ids=outbox_rows),
        lambda: services.notifications_send_many(notification_ids=shuffled),
        lambda: services.notifications_send_due(),
    )

    sent_ids = Counter(message.anymail_test_params["metadata"]["notification_id"] for message in mail.outbox)
    assert len(mail.outbox) == len(outbox_rows)
    assert sent_ids == Counter({str(pk): 1 for pk in outbox_rows})
    rows = Notification.objects.filter(pk__in=outbox_rows)
    assert set(rows.values_list("status", flat=True)) == {NotificationStatus.SENT}
    assert set(rows.values_list("attempts", flat=True)) == {1}
