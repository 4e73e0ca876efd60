"""The charging success rate (chargepoints/charging.py, performance/selectors.py)
against hand-computed sessions, and its agreement with the failed-charges
health check."""

import pytest

from chargepoints.charging import SUCCESS, charge_attempts, charge_failures
from chargepoints.models import ChargePoint
from performance.periods import period_month
from performance.rollups import rollups_refresh
from performance.selectors import figures_by_group, figures_for
from reporting.health.checks import Thresholds, failed_charges

from .conftest import at, charge, make_charge_point, record, status

pytestmark = pytest.mark.django_db
MARCH = period_month(2026, 3)
APRIL_10 = at(0, day=39)


def four_sessions(cp):
    record(
        charge(cp, at(8), 60, 15_000),  # a success
        charge(cp, at(9.5), 2, 0),  # authorised, never delivered energy
        charge(cp, at(11), 30, 4_000, stop_reason="EmergencyStop"),
        charge(cp, at(13), 60, 9_000),  # the charger faults during it (below)
        status(cp, at(13.5), "Faulted", 1, "GroundFailure"),
    )


def test_a_start_that_never_delivered_energy_is_a_failed_attempt(cp):
    four_sessions(cp)
    rollups_refresh(now=APRIL_10)

    figures = figures_for(charge_points=ChargePoint.objects.filter(pk=cp.pk), period=MARCH, now=APRIL_10,
                          with_causes=True)[cp.pk]

    assert (figures.attempts, figures.successes) == (4, 1)
    assert figures.success_rate == 25
    assert dict(figures.failures) == {"no_energy": 1, "stop:EmergencyStop": 1, "error:GroundFailure": 1}


def test_the_success_rate_and_the_failed_charges_check_count_the_same_failures(cp):
    four_sessions(cp)
    since = at(7)

    attempts = charge_attempts(ended_after=since).filter(charge_point=cp)
    assert attempts.count() == 4
    assert attempts.filter(SUCCESS).count() == 1
    assert charge_failures(ended_after=since).filter(charge_point=cp).count() == 3
    # The check fires at three failures in the window, not at four.
    detect = failed_charges(Thresholds(count=3, window_minutes=8 * 60), at(15))
    assert list(detect) == [cp]
    assert not failed_charges(Thresholds(count=4, window_minutes=8 * 60), at(15)).exists()


def test_the_rate_per_vendor_model_and_firmware(cp):
    four_sessions(cp)
    other = make_charge_point(vendor="ABB", model="Terra AC", firmware_version="1.2")
    record(charge(other, at(8), 60, 10_000), charge(other, at(10), 60, 10_000))
    rollups_refresh(now=APRIL_10)
    everyone = ChargePoint.objects.filter(pk__in=[cp.pk, other.pk])

    groups = figures_by_group(charge_points=everyone, period=MARCH, by="firmware", now=APRIL_10)

    assert [(key, f.attempts, f.success_rate) for key, f in groups] == [
        (("Alfen", "Eve Single Pro", "6.4.0"), 4, 25.0),
        (("ABB", "Terra AC", "1.2"), 2, 100.0),
    ]


def test_a_charge_late_by_days_updates_the_day_it_started(cp):
    rollups_refresh(now=APRIL_10)
    record(charge(cp, at(8, day=5), 60, 0))  # 7 March, sent on 10 April
    rollups_refresh(now=APRIL_10)

    figures = figures_for(charge_points=ChargePoint.objects.filter(pk=cp.pk), period=MARCH, now=APRIL_10)[cp.pk]
    assert (figures.attempts, figures.successes) == (1, 0)


def test_the_rate_per_port_counts_the_charges_that_know_their_connector(cp):
    record(
        charge(cp, at(8), 60, 15_000, connector=1),
        charge(cp, at(10), 2, 0, connector=1),  # never delivered energy
        charge(cp, at(8), 60, 12_000, connector=2),
        charge(cp, at(12), 60, 12_000, connector=2),
        charge(cp, at(14), 30, 4_000, stop_reason="EmergencyStop", connector=2),
        charge(cp, at(16), 60, 9_000),  # the sender did not say which port: the charge point's figures only
        charge(cp, at(8, day=1), 60, 9_000, connector=1),  # another day adds up
    )
    rollups_refresh(now=APRIL_10)

    figures = figures_for(charge_points=ChargePoint.objects.filter(pk=cp.pk), period=MARCH, now=APRIL_10,
                          with_causes=True)[cp.pk]

    assert (figures.attempts, figures.successes) == (7, 5)
    assert [(p.connector, p.attempts, p.successes) for p in figures.ports] == [(1, 3, 2), (2, 3, 2)]
    assert [round(p.success_rate, 1) for p in figures.ports] == [66.7, 66.7]


def test_a_charge_with_a_connector_that_is_not_a_port_is_rejected(cp):
    from chargepoints.services import telemetry_record_batch

    for bad, says in ((0, "Must be between 1 and 1000."), ("2", "Must be a number."), (1.5, "Must be a whole number.")):
        event = charge(cp, at(8), 60, 1_000)
        event["connector"] = bad
        [result] = telemetry_record_batch(events=[event])
        assert (result.status, result.errors) == ("rejected", {"connector": says})
