"""Team and site totals summed in the database (performance/totals.py):
against hand-computed cases and against the per-charge-point figures
(``figures_for``) summed in Python, on a small fleet with every kind of
row: outages with causes, an ongoing outage, an exclusion, a charge point
created mid-period, one without connectors, charges on known ports and
on none, a failed start."""

from datetime import timedelta

import pytest

from chargepoints.models import ChargePoint
from performance.exclusions import exclusion_add
from performance.periods import period_last_days, period_month
from performance.rollups import rollups_refresh
from performance.selectors import figures_for, figures_sum
from performance.totals import daily_uptime, totals_for

from .conftest import at, charge, disconnected, heartbeat, make_charge_point, record, status

pytestmark = pytest.mark.django_db
MARCH = period_month(2026, 3)
MARCH_MINUTES = 31 * 24 * 60
APRIL_10 = at(0, day=39)


@pytest.fixture
def fleet(cp, support_user):
    """cp (two ports, a fault with an exclusion, charges), a second one at
    the site created mid-month and down at the end of the period, a third
    without connectors that was disconnected."""
    late = make_charge_point(site=cp.site, created_at=at(5, day=10))
    bare = make_charge_point(site=cp.site)
    record(status(cp, at(10), "Faulted", 1, "GroundFailure"), status(cp, at(12), "Available", 1),
           status(cp, at(3, day=2), "Unavailable", 2), status(cp, at(9, day=2), "Available", 2),
           charge(cp, at(13), 60, 10_000, connector=1), charge(cp, at(15), 3, 0, connector=1),
           charge(cp, at(16), 30, 5_000, "EmergencyStop", connector=2), charge(cp, at(18), 20, 4_000),
           status(late, at(6, day=10), "Available", 1), status(late, at(20, day=12), "Faulted", 1, "OverVoltage"),
           disconnected(bare, at(1)), heartbeat(bare, at(4)))
    exclusion_add(by=support_user, charge_point=cp, connector=1, starts_at=at(10), ends_at=at(11),
                  reason="vandalism", evidence_text="Cable cut")
    return cp, late, bare


def _same(total, expected):
    assert total.charge_points == expected.charge_points
    assert total.port_count == len(expected.ports)
    assert total.minutes == pytest.approx(expected.minutes, rel=1e-9)
    assert total.outage_minutes == pytest.approx(expected.outage_minutes, rel=1e-9)
    assert total.excluded_minutes == pytest.approx(expected.excluded_minutes, rel=1e-9)
    assert total.uptime == pytest.approx(expected.uptime, rel=1e-9)
    assert (total.attempts, total.successes) == (expected.attempts, expected.successes)
    assert dict(total.failures) == dict(expected.failures)
    assert {k: pytest.approx(v) for k, v in total.causes.items()} == dict(expected.causes)
    # The ports summed per connector number.
    by_number = {}
    for port in expected.ports:
        one = by_number.setdefault(port.connector, [0.0, 0.0, 0.0, 0, 0])
        for i, value in enumerate((port.minutes, port.outage_seconds, port.excluded_seconds, port.attempts,
                                   port.successes)):
            one[i] += value
    assert {p.connector: [pytest.approx(p.minutes), pytest.approx(p.outage_seconds), p.excluded_seconds,
                          p.attempts, p.successes] for p in total.ports} == by_number


@pytest.mark.parametrize("now", [APRIL_10, at(12, day=20)], ids=["after the month", "during it"])
def test_the_totals_equal_the_per_charge_point_figures_summed(fleet, now):
    rollups_refresh(now=now)
    site = ChargePoint.objects.filter(site=fleet[0].site)

    for with_causes in (False, True):
        expected = figures_sum(figures_for(charge_points=site, period=MARCH, now=now,
                                           with_causes=with_causes).values())
        _same(totals_for(charge_points=site, period=MARCH, now=now, with_causes=with_causes), expected)


def test_the_totals_by_hand(fleet):
    cp, late, bare = fleet
    rollups_refresh(now=APRIL_10)

    total = totals_for(charge_points=ChargePoint.objects.filter(site=cp.site), period=MARCH, now=APRIL_10,
                       with_causes=True)

    late_minutes = (MARCH.end - at(5, day=10)).total_seconds() / 60
    # cp's two ports and bare's port 0 all month; late's one port from its creation.
    assert total.port_count == 4
    assert total.minutes == pytest.approx(3 * MARCH_MINUTES + late_minutes)
    # cp: 120 + 360; bare: 180; late: faulted from day 12, 20:00 to the end of March.
    late_outage = (MARCH.end - at(20, day=12)).total_seconds() / 60
    assert total.outage_minutes == pytest.approx(120 + 360 + 180 + late_outage)
    assert total.excluded_minutes == 60
    assert total.uptime == pytest.approx(
        100 * (3 * MARCH_MINUTES + late_minutes - (120 + 360 + 180 + late_outage - 60))
        / (3 * MARCH_MINUTES + late_minutes))
    assert (total.attempts, total.successes) == (4, 2)
    assert dict(total.failures) == {"no_energy": 1, "stop:EmergencyStop": 1}
    assert [(p.connector, p.attempts, p.successes) for p in total.ports] == [(0, 0, 0), (1, 2, 1), (2, 1, 0)]
    assert total.causes["error:GroundFailure"] == 7200
    assert total.causes["error:OverVoltage"] == pytest.approx(late_outage * 60)


def test_an_empty_set_has_no_figures(cp):
    total = totals_for(charge_points=ChargePoint.objects.none(), period=MARCH, now=APRIL_10, with_causes=True)
    assert (total.charge_points, total.ports, total.minutes, total.uptime) == (0, [], 0, None)


def test_the_daily_series_by_hand(fleet):
    cp, late, bare = fleet
    rollups_refresh(now=at(12, day=13))
    period = period_last_days(14, today=at(0, day=13).date())

    series = dict(daily_uptime(charge_points=ChargePoint.objects.filter(site=cp.site), period=period,
                               now=at(12, day=13)))

    day = 24 * 60
    assert series[at(0).date()] == pytest.approx(100 * (3 * day - (120 - 60 + 180)) / (3 * day))
    # late counts from 05:00 on day 10.
    assert series[at(0, day=10).date()] == pytest.approx(100.0)
    assert series[at(0, day=12).date()] == pytest.approx(100 * (4 * day - 4 * 60) / (4 * day))
    # Today up to noon, late down all along.
    assert series[at(0, day=13).date()] == pytest.approx(100 * (4 * 720 - 720) / (4 * 720))
    assert series[at(0, day=1).date()] == pytest.approx(100.0)
    assert len(series) == 14 and period.first == (at(0, day=13) - timedelta(days=13)).date() == at(0).date()
