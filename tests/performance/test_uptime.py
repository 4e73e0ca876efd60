"""Uptime with the NEVI formula over periods (performance/selectors.py,
periods.py) and the quarterly CSV (performance/exports.py), hand-computed."""

from datetime import date

import pytest

from chargepoints.models import ChargePoint
from core.errors import Invalid
from performance.exclusions import exclusion_add
from performance.exports import uptime_csv_lines
from performance.periods import period_month, period_parse, period_quarter
from performance.rollups import rollups_refresh
from performance.selectors import figures_for, figures_sum

from .conftest import at, disconnected, heartbeat, make_charge_point, record, status

pytestmark = pytest.mark.django_db
MARCH = period_month(2026, 3)
MARCH_MINUTES = 31 * 24 * 60
APRIL_10 = at(0, day=39)


def test_the_periods():
    today = date(2026, 3, 15)
    assert (period_parse("30d", today=today).first, period_parse("30d", today=today).last) == (
        date(2026, 2, 14), today)
    assert (period_parse("2026-02", today=today).first, period_parse("2026-02", today=today).last) == (
        date(2026, 2, 1), date(2026, 2, 28))
    assert (period_parse("2026-q4", today=today).first, period_parse("2026-Q4", today=today).last) == (
        date(2026, 10, 1), date(2026, 12, 31))
    for bad in ("7d", "2026-13", "2026-Q5", "last week", "1900-01"):
        with pytest.raises(Invalid, match="Unknown period"):
            period_parse(bad, today=today)


def test_uptime_per_port_and_per_charge_point_over_a_month(cp):
    record(status(cp, at(10), "Faulted", 1), status(cp, at(12), "Available", 1))
    rollups_refresh(now=APRIL_10)

    figures = figures_for(charge_points=ChargePoint.objects.filter(pk=cp.pk), period=MARCH, now=APRIL_10)[cp.pk]

    port1, port2 = figures.ports
    assert (port1.connector, port1.minutes, port1.outage_minutes, port1.excluded_minutes) == (
        1, MARCH_MINUTES, 120, 0)
    assert port1.uptime == pytest.approx(100 * (44640 - 120) / 44640)
    assert port2.uptime == 100
    assert figures.uptime == pytest.approx(100 * (2 * 44640 - 120) / (2 * 44640))


def test_excluded_minutes_are_given_back(cp, support_user):
    record(status(cp, at(10), "Faulted", 1), status(cp, at(12), "Available", 1))
    exclusion_add(by=support_user, charge_point=cp, connector=1, starts_at=at(10), ends_at=at(11),
                  reason="natural_disaster", evidence_text="Storm")
    rollups_refresh(now=APRIL_10)

    port1 = figures_for(charge_points=ChargePoint.objects.filter(pk=cp.pk), period=MARCH, now=APRIL_10)[cp.pk].ports[0]

    assert (port1.outage_minutes, port1.excluded_minutes) == (120, 60)
    assert port1.uptime == pytest.approx(100 * (44640 - 60) / 44640)


def test_a_charge_point_created_mid_period_counts_from_its_creation():
    cp = make_charge_point(created_at=at(12))
    record(status(cp, at(13), "Faulted", 1), status(cp, at(14), "Available", 1))
    rollups_refresh(now=APRIL_10)

    figures = figures_for(charge_points=ChargePoint.objects.filter(pk=cp.pk), period=MARCH, now=APRIL_10)[cp.pk]

    minutes = MARCH_MINUTES - 36 * 60  # from 2 March 12:00
    assert [(p.connector, p.minutes, p.outage_minutes) for p in figures.ports] == [(1, minutes, 60)]
    assert figures.uptime == pytest.approx(100 * (minutes - 60) / minutes)


def test_an_ongoing_outage_counts_until_now(cp):
    record(status(cp, at(10), "Faulted", 1))
    rollups_refresh(now=at(11))

    figures = figures_for(charge_points=ChargePoint.objects.filter(pk=cp.pk), period=MARCH, now=at(14))[cp.pk]

    minutes = 14 * 60 + 24 * 60  # 1 March to 2 March 14:00
    assert figures.ports[0].minutes == minutes
    assert figures.ports[0].outage_minutes == 4 * 60


def test_a_site_and_a_team_sum_their_ports(cp):
    other = make_charge_point(site=cp.site)
    record(status(cp, at(10), "Faulted", 1), status(cp, at(12), "Available", 1),
           disconnected(other, at(1)), heartbeat(other, at(4)))
    rollups_refresh(now=APRIL_10)

    site = figures_sum(figures_for(charge_points=ChargePoint.objects.filter(site=cp.site), period=MARCH,
                                   now=APRIL_10).values())

    # Three ports: cp's two and other's one (it reported no connectors).
    assert (site.charge_points, len(site.ports), site.outage_minutes) == (2, 3, 120 + 180)
    assert site.uptime == pytest.approx(100 * (3 * 44640 - 300) / (3 * 44640))


def test_the_quarterly_csv_has_a_row_per_port_with_each_outage(cp, support_user):
    record(status(cp, at(10), "Faulted", 1), status(cp, at(12), "Available", 1),
           status(cp, at(22), "Faulted", 1), status(cp, at(1, day=1), "Available", 1))
    exclusion_add(by=support_user, charge_point=cp, connector=1, starts_at=at(10), ends_at=at(11),
                  reason="vandalism", evidence_text="Cable cut")

    lines = list(uptime_csv_lines(ChargePoint.objects.filter(pk=cp.pk), period=period_quarter(2026, 1),
                                  now=APRIL_10))

    assert lines[0].startswith("\ufeffcharge point,ocpp id,site,port")
    quarter = 60 * 24 * 60  # created 30 days before 2 March: from 31 January
    row1 = lines[1].rstrip("\r\n").split(",")
    assert row1[3:] == ["1", "2026-Q1", str(quarter), f"{100 * (quarter - 240) / quarter:.3f}", "300.0", "60.0",
                        "2", "120.0; 180.0"]
    assert lines[2].rstrip("\r\n").split(",")[3:] == ["2", "2026-Q1", str(quarter), "100.000", "0.0", "0.0", "0", ""]
    assert len(lines) == 3


def test_a_period_in_the_future_has_no_minutes(cp):
    figures = figures_for(charge_points=ChargePoint.objects.filter(pk=cp.pk), period=period_month(2026, 5),
                          now=APRIL_10)[cp.pk]
    assert figures.minutes == 0 and figures.uptime is None
