"""A start that was never stopped (gateway/services.py
``transactions_close_abandoned``, the rule in chargepoints/charging.py):
once clearly abandoned it is a failed charging attempt, counted alike by the
charging success rate and the failed-charges health check."""

from datetime import UTC, datetime, timedelta

import pytest

from chargepoints.charging import ABANDONED_AFTER, ABANDONED_STOP_REASON, start_abandoned_at
from chargepoints.models import Charge, ChargeOutcome, ChargePoint
from gateway.commands import gateway_sweep
from gateway.models import Transaction
from gateway.services import transaction_start, transaction_stop, transactions_close_abandoned
from performance.periods import period_month
from performance.rollups import rollups_refresh
from performance.selectors import figures_for
from reporting.health.checks import Thresholds, failed_charges
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


def start(cp, when, connector=1, meter=1000):
    return transaction_start(charge_point_id=cp.pk, connector=connector, id_tag="TAG", meter_start_wh=meter,
                             started_at=when)


def test_the_abandoned_moment_is_the_deadline_or_the_next_start_on_the_connector():
    assert start_abandoned_at(started_at=T0) == T0 + ABANDONED_AFTER
    assert start_abandoned_at(started_at=T0, next_start_at=T0 + timedelta(hours=3)) == T0 + timedelta(hours=3)
    # A next start after the deadline does not move it.
    assert start_abandoned_at(started_at=T0, next_start_at=T0 + ABANDONED_AFTER * 2) == T0 + ABANDONED_AFTER


def test_a_start_is_a_charge_in_progress_until_the_deadline_then_a_failed_attempt():
    cp = ChargePointFactory()
    tx = start(cp, T0)
    Transaction.objects.filter(pk=tx).update(meter_last_wh=4000)

    assert transactions_close_abandoned(now=T0 + ABANDONED_AFTER - timedelta(seconds=1)) == 0
    assert not Charge.objects.exists()

    assert transactions_close_abandoned(now=T0 + ABANDONED_AFTER) == 1
    charge = Charge.objects.get()
    assert (charge.started_at, charge.ended_at) == (T0, T0 + ABANDONED_AFTER)
    assert charge.stop_reason == ABANDONED_STOP_REASON
    assert charge.energy_wh == 3000  # what the meter readings showed, yet a failure
    assert charge.connector == 1
    assert charge.outcome == ChargeOutcome.FAILED
    assert charge.failure_reason == "Started but never stopped."
    assert Transaction.objects.get(pk=tx).ended_at == T0 + ABANDONED_AFTER
    # A second sweep, and a stop the charger replays late, record nothing more.
    assert transactions_close_abandoned(now=T0 + ABANDONED_AFTER * 2) == 0
    assert transaction_stop(charge_point_id=cp.pk, ocpp_id=cp.ocpp_id, transaction_id=tx, meter_stop_wh=9000,
                            ended_at=T0 + ABANDONED_AFTER * 2, reason="Local") is None
    assert Charge.objects.count() == 1


def test_a_later_start_on_the_same_connector_abandons_the_open_one_at_once():
    cp = ChargePointFactory()
    first = start(cp, T0)
    start(cp, T0 + timedelta(hours=1), connector=2)  # another connector: no sign
    assert transactions_close_abandoned(now=T0 + timedelta(hours=2)) == 0
    start(cp, T0 + timedelta(hours=3))

    assert transactions_close_abandoned(now=T0 + timedelta(hours=4)) == 1

    charge = Charge.objects.get()
    assert charge.transaction_id == str(first)
    assert (charge.ended_at, charge.energy_wh, charge.outcome) == (T0 + timedelta(hours=3), 0, ChargeOutcome.FAILED)
    assert Transaction.objects.filter(ended_at__isnull=True).count() == 2


def test_a_start_superseded_by_one_that_stopped_is_found_at_its_deadline_and_ends_at_the_next_start():
    cp = ChargePointFactory()
    start(cp, T0)
    later = start(cp, T0 + timedelta(hours=3))
    transaction_stop(charge_point_id=cp.pk, ocpp_id=cp.ocpp_id, transaction_id=later, meter_stop_wh=9000,
                     ended_at=T0 + timedelta(hours=4), reason="Local")

    assert transactions_close_abandoned(now=T0 + timedelta(hours=5)) == 0  # no open start after it: not yet seen
    assert transactions_close_abandoned(now=T0 + ABANDONED_AFTER) == 1

    abandoned = Charge.objects.get(stop_reason=ABANDONED_STOP_REASON)
    assert (abandoned.started_at, abandoned.ended_at) == (T0, T0 + timedelta(hours=3))


def test_the_rate_and_the_health_check_both_count_the_abandoned_start():
    cp = ChargePointFactory()
    ChargePoint.objects.filter(pk=cp.pk).update(created_at=T0 - timedelta(days=30))
    done = start(cp, T0)
    transaction_stop(charge_point_id=cp.pk, ocpp_id=cp.ocpp_id, transaction_id=done, meter_stop_wh=11_000,
                     ended_at=T0 + timedelta(hours=1), reason="Local")
    start(cp, T0 + timedelta(hours=2))
    now = T0 + timedelta(hours=2) + ABANDONED_AFTER

    assert gateway_sweep(now=now).abandoned == 1
    rollups_refresh(now=now)

    figures = figures_for(charge_points=ChargePoint.objects.filter(pk=cp.pk), period=period_month(2026, 3), now=now,
                          with_causes=True)[cp.pk]
    assert (figures.attempts, figures.successes) == (2, 1)
    assert dict(figures.failures) == {"abandoned": 1}
    assert list(failed_charges(Thresholds(count=1, window_minutes=60), now)) == [cp]
