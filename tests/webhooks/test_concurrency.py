"""Several workers sending the same deliveries at once, on PostgreSQL where
they really run in parallel: each message reaches the receiver once."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from django.db import connection, transaction

from reporting import services as reporting
from reporting.catalogue import Reason, Source
from tests.concurrency import run_at_once
from tests.factories import ChargePointFactory
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.services import deliveries as webhook_deliveries

REPORTS = 12


@pytest.fixture
def deliveries(setup, receiver, monkeypatch) -> list[int]:
    """REPORTS deliveries, committed and pending (the on-commit task is held
    back so the workers below race)."""
    monkeypatch.setattr(webhook_deliveries, "enqueue_on_commit", lambda *args, **kwargs: None)
    services.endpoint_create(team=setup.owner, url=receiver.url, events=["report.filed"], by=None)
    for _ in range(REPORTS):
        reporting.report_create(charge_point=ChargePointFactory(site__team=setup.owner), source=Source.USER,
                                reason=Reason.BROKEN)
    ids = list(WebhookDelivery.objects.values_list("pk", flat=True))
    assert len(ids) == REPORTS
    return ids


@pytest.mark.django_db(transaction=True)
def test_two_workers_and_the_sweep_deliver_each_message_once(require_postgres, deliveries, receiver):
    shuffled = random.sample(deliveries, len(deliveries))
    run_at_once(
        lambda: services.deliveries_send_many(delivery_ids=deliveries),
        lambda: services.deliveries_send_many(delivery_ids=shuffled),
        lambda: services.deliveries_send_due(budget_seconds=30),
    )
    ids = Counter(request.headers["webhook-id"] for request in receiver.received)
    expected = set(WebhookDelivery.objects.values_list("webhook_id", flat=True))
    assert ids == Counter({webhook_id: 1 for webhook_id in expected})
    rows = WebhookDelivery.objects.filter(pk__in=deliveries)
    assert set(rows.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
    assert set(rows.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_a_claim_skips_rows_another_worker_holds_locked(require_postgres, deliveries):
    held = sorted(deliveries)[:4]
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                list(WebhookDelivery.objects.select_for_update().filter(pk__in=held))
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(timeout=30)
        claimed, _token = services.deliveries_claim(limit=100)
    finally:
        release.set()
        thread.join(timeout=30)
    assert sorted(claimed) == sorted(set(deliveries) - set(held))
