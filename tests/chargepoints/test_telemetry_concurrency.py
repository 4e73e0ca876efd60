"""Two senders recording the same telemetry at once, on PostgreSQL where
they really run in parallel: every event is stored once, answered accepted
to one sender and duplicate to the other, and moves the live state once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chargepoints.models import Charge, Heartbeat, SignalReading, StateChange
from chargepoints.services import telemetry_record_batch
from tests import factories
from tests.concurrency import run_at_once


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_sent_twice_at_once_is_stored_once(require_postgres):
    cps = [factories.ChargePointFactory(state_since=timezone.now() - timedelta(days=1)) for _ in range(5)]
    now = timezone.now()
    events = []
    for i in range(200):
        cp, at = cps[i % 5], (now - timedelta(seconds=200 - i)).isoformat()
        base = {"event_id": f"e{i}", "ocpp_id": cp.ocpp_id, "occurred_at": at}
        events.append([
            {**base, "type": "heartbeat"},
            {**base, "type": "state_change", "status": ("Available", "Charging", "Faulted")[i % 3]},
            {**base, "type": "signal", "kind": "wifi", "dbm": -60 - i % 40},
            {**base, "type": "charge", "started_at": (now - timedelta(hours=2)).isoformat(), "ended_at": at,
             "energy_wh": 100},
        ][i % 4])
    answers = []

    run_at_once(lambda: answers.append(telemetry_record_batch(events=events)),
                lambda: answers.append(telemetry_record_batch(events=list(reversed(events)))))

    assert len(answers) == 2
    first, second = ({r.event_id: r.status for r in answer} for answer in answers)
    assert {event_id: sorted([status, second[event_id]]) for event_id, status in first.items()} == {
        f"e{i}": ["accepted", "duplicate"] for i in range(200)
    }
    for model in (Heartbeat, StateChange, SignalReading, Charge):
        assert model.objects.count() == 50, model
    # The last status of each charge point is its state, whoever stored it.
    for cp in cps:
        cp.refresh_from_db()
        latest = StateChange.objects.filter(charge_point=cp).order_by("-occurred_at").first()
        assert (cp.state, cp.state_reported_at) == (latest.state, latest.occurred_at)
