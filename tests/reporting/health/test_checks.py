"""reporting/health/checks.py through the sweep: each check at its boundary."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chargepoints.models import ChargeOutcome, SignalKind
from reporting.catalogue import Party, Reason, Source
from reporting.health.sweep import health_sweep
from reporting.models import EventKind, Report
from tests.factories import (
    ChargeFactory,
    ChargePointFactory,
    HealthCheckSettingsFactory,
    SignalReadingFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def reasons(cp):
    return sorted(Report.objects.filter(charge_point=cp, source=Source.SYSTEM).values_list("reason", flat=True))


@pytest.mark.parametrize(("state", "reason"), [("disconnected", Reason.DISCONNECTED), ("error", Reason.IN_ERROR)])
def test_a_state_is_reported_after_more_than_ten_minutes_not_before(state, reason):
    almost = ChargePointFactory(state=state, state_since=NOW - timedelta(minutes=9, seconds=59))
    over = ChargePointFactory(state=state, state_since=NOW - timedelta(minutes=10, seconds=1), error_code="GroundFailure")

    health_sweep(now=NOW)

    assert reasons(almost) == []
    assert reasons(over) == [reason]
    report = Report.objects.get(charge_point=over)
    assert report.assigned_party == Party.OPERATOR
    assert report.events.get().kind == EventKind.CREATED
    assert report.events.get().actor_label == "System"
    if state == "error":
        assert "GroundFailure" in report.description


def test_other_states_are_never_reported():
    for state in ("available", "busy", "passive", "unknown"):
        ChargePointFactory(state=state, state_since=NOW - timedelta(days=3))

    health_sweep(now=NOW)

    assert not Report.objects.exists()


def failed(cp, n, *, minutes_ago=5):
    for _ in range(n):
        ChargeFactory(charge_point=cp, outcome=ChargeOutcome.FAILED, ended_at=NOW - timedelta(minutes=minutes_ago))


def test_three_failed_charges_within_the_hour_are_reported_two_are_not():
    two, three, spread = ChargePointFactory.create_batch(3)
    failed(two, 2)
    failed(three, 3)
    failed(spread, 2)
    failed(spread, 1, minutes_ago=61)  # outside the hour
    ChargeFactory.create_batch(5, charge_point=two)  # successful charges do not count

    health_sweep(now=NOW)

    assert reasons(two) == reasons(spread) == []
    assert reasons(three) == [Reason.FAILED_CHARGES]


def weak(cp, dbms, *, kind=SignalKind.WIFI, step_minutes=4):
    """Readings one every ``step_minutes``, the last one now; sets the latest
    signal on the charge point as telemetry would."""
    for i, dbm in enumerate(reversed(dbms)):
        SignalReadingFactory(charge_point=cp, kind=kind, dbm=dbm, occurred_at=NOW - timedelta(minutes=i * step_minutes))
    setattr(cp, f"{kind}_signal_dbm", dbms[-1])
    setattr(cp, f"{kind}_signal_at", NOW)
    cp.save()


def test_wifi_is_reported_after_three_weak_readings_in_the_window_not_two():
    two, three, one_good, at_threshold = ChargePointFactory.create_batch(4, connectivity="wifi")
    weak(two, [-85, -86])
    weak(three, [-85, -86, -90])
    weak(one_good, [-85, -70, -86, -90])
    weak(at_threshold, [-80, -80, -80])  # "below -80" is strict

    health_sweep(now=NOW)

    assert reasons(two) == reasons(one_good) == reasons(at_threshold) == []
    assert reasons(three) == [Reason.BAD_WIFI]
    assert "-90 dBm" in Report.objects.get(charge_point=three).description


def test_readings_older_than_the_window_do_not_count():
    cp = ChargePointFactory()
    weak(cp, [-95, -95, -95], step_minutes=7)  # the oldest is 14 minutes old: inside
    old = ChargePointFactory()
    weak(old, [-95, -95, -95], step_minutes=8)  # the oldest is 16 minutes old: outside

    health_sweep(now=NOW)

    assert reasons(cp) == [Reason.BAD_WIFI]
    assert reasons(old) == []


def test_cellular_uses_its_own_threshold():
    bad, fine = ChargePointFactory.create_batch(2, connectivity="cellular")
    weak(bad, [-106, -110, -107], kind=SignalKind.CELLULAR)
    weak(fine, [-100, -104, -105], kind=SignalKind.CELLULAR)  # weak for wifi, fine for cellular

    health_sweep(now=NOW)

    assert reasons(bad) == [Reason.BAD_CELL_SIGNAL]
    assert reasons(fine) == []


def test_a_team_overrides_a_threshold_and_switches_a_check_off():
    strict = ChargePointFactory(state="disconnected", state_since=NOW - timedelta(minutes=3))
    HealthCheckSettingsFactory(team=strict.operator, disconnected_minutes=2)
    off = ChargePointFactory(state="error", state_since=NOW - timedelta(hours=1))
    HealthCheckSettingsFactory(team=off.operator, in_error_enabled=False)
    default = ChargePointFactory(state="disconnected", state_since=NOW - timedelta(minutes=3))

    health_sweep(now=NOW)

    assert reasons(strict) == [Reason.DISCONNECTED]
    assert reasons(off) == []
    assert reasons(default) == []


def test_the_operator_teams_settings_apply_not_the_owners(team):
    cp = ChargePointFactory(operator=team, state="disconnected", state_since=NOW - timedelta(minutes=30))
    HealthCheckSettingsFactory(team=cp.owner, disconnected_enabled=False)

    health_sweep(now=NOW)

    assert reasons(cp) == [Reason.DISCONNECTED]


def test_defaults_come_from_settings(settings):
    settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "disconnected": {"enabled": True, "minutes": 60}}
    cp = ChargePointFactory(state="disconnected", state_since=NOW - timedelta(minutes=30))

    health_sweep(now=NOW)

    assert reasons(cp) == []


def test_a_default_missing_from_settings_is_a_clear_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "bad_wifi": {"enabled": True, "dbm": -80}}

    with pytest.raises(ImproperlyConfigured, match="bad_wifi.*window_minutes, min_readings"):
        health_sweep(now=NOW)
