"""chargepoints/simulation.py and the simulate_fleet command: a newcomer sees
system reports appear and resolve within minutes."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from chargepoints.models import Charge, ChargeOutcome, Heartbeat, StateChange
from chargepoints.simulation import FleetSimulator
from reporting.catalogue import Source
from reporting.health.sweep import health_sweep
from reporting.models import Report, ReportState
from tests.factories import ChargePointFactory, SiteFactory

pytestmark = pytest.mark.django_db


def test_twenty_minutes_of_simulation_files_and_resolves_system_reports():
    site = SiteFactory()
    for connectivity in ["wifi", "cellular", "ethernet"] * 4:
        ChargePointFactory(site=site, connectivity=connectivity, state_since=timezone.now() - timedelta(days=1))
    ChargePointFactory(site=site, ocpp_id="FLEET-0000001")  # a bulk fleet row: left alone
    simulator = FleetSimulator.for_demo(seed=7)
    simulator.episodes_per_minute = 2
    # Run in the past up to now: the telemetry service refuses future times.
    start = timezone.now() - timedelta(minutes=20)

    for second in range(0, 20 * 60, 10):
        now = start + timedelta(seconds=second)
        simulator.tick(now=now)
        if second % 60 == 0:
            health_sweep(now=now)

    assert len(simulator.charge_points) == 12
    assert simulator.rejected == 0
    system = Report.objects.filter(source=Source.SYSTEM)
    assert system.count() >= 3
    assert system.filter(state=ReportState.RESOLVED).exists()
    assert len({r for r in system.values_list("reason", flat=True)}) >= 2
    assert not Heartbeat.objects.filter(charge_point__ocpp_id="FLEET-0000001").exists()
    # Between problems drivers charge: Charging, then a completed charge.
    assert StateChange.objects.filter(ocpp_status="Charging").exists()
    assert Charge.objects.filter(outcome=ChargeOutcome.COMPLETED).exists()
    assert Charge.objects.filter(outcome=ChargeOutcome.FAILED).exists()


def test_the_command_runs_a_few_ticks(capsys):
    ChargePointFactory.create_batch(3)

    call_command("simulate_fleet", ticks=2, interval=0.01, seed=1, opening=False)

    out = capsys.readouterr().out
    assert "Simulating 3 charge points" in out
    assert Heartbeat.objects.count() == 3


def test_the_command_needs_demo_charge_points():
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("simulate_fleet", ticks=1, interval=0.01)


@pytest.mark.parametrize("window_minutes", [15, 3])
def test_a_weak_signal_episode_outlasts_the_window_and_files_a_report(settings, window_minutes):
    for key in ("bad_wifi", "bad_cell_signal"):
        settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS,
                                  key: {**settings.HEALTH_CHECKS[key], "window_minutes": window_minutes}}
    ChargePointFactory(connectivity="wifi", state_since=timezone.now() - timedelta(days=1))
    simulator = FleetSimulator.for_demo(seed=3)
    simulator.episodes_per_minute = 0
    start = timezone.now() - timedelta(minutes=window_minutes + 2)
    simulator._start(simulator.charge_points[0], "weak_signal", start)

    for second in range(0, (window_minutes + 2) * 60, 10):
        now = start + timedelta(seconds=second)
        simulator.tick(now=now)
        if second % 60 == 0:
            health_sweep(now=now)

    assert list(Report.objects.filter(source=Source.SYSTEM).values_list("reason", "state")) == [
        ("bad_wifi", ReportState.OPEN)]


def _demo_speed(settings, speed):
    """What config/settings/local.py does with DEMO_SPEED."""
    checks = settings.HEALTH_CHECKS
    settings.HEALTH_CHECKS = {
        **checks,
        "disconnected": {**checks["disconnected"], "minutes": checks["disconnected"]["minutes"] / speed},
        "in_error": {**checks["in_error"], "minutes": checks["in_error"]["minutes"] / speed},
        "failed_charges": {**checks["failed_charges"],
                           "window_minutes": checks["failed_charges"]["window_minutes"] / speed},
        "bad_wifi": {**checks["bad_wifi"], "window_minutes": checks["bad_wifi"]["window_minutes"] / speed},
        "bad_cell_signal": {**checks["bad_cell_signal"],
                            "window_minutes": checks["bad_cell_signal"]["window_minutes"] / speed},
    }


@pytest.mark.parametrize("late_disconnects", [True, False], ids=["telemetry", "ocpp"])
def test_the_opening_shows_every_system_reason_within_five_minutes_then_resolves_them(settings, late_disconnects):
    _demo_speed(settings, 5)
    site = SiteFactory()
    for connectivity in ["wifi", "cellular", "ethernet", "ethernet", "ethernet"]:
        ChargePointFactory(site=site, connectivity=connectivity, state_since=timezone.now() - timedelta(days=1))
    simulator = FleetSimulator.for_demo(seed=11, speed=5, opening=True)
    simulator.late_disconnects = late_disconnects
    simulator.episodes_per_minute = 0
    start = timezone.now() - timedelta(minutes=30)
    seen_by_minute: dict[str, int] = {}

    for second in range(0, 30 * 60, 2):
        now = start + timedelta(seconds=second)
        simulator.tick(now=now, tick=timedelta(seconds=2))
        if second % 60 == 0:
            health_sweep(now=now)
            for reason in Report.objects.filter(source=Source.SYSTEM).values_list("reason", flat=True):
                seen_by_minute.setdefault(reason, second // 60)

    assert simulator.rejected == 0
    assert set(seen_by_minute) == {"disconnected", "in_error", "failed_charges", "bad_wifi", "bad_cell_signal"}
    assert max(seen_by_minute.values()) <= 5, seen_by_minute
    system = Report.objects.filter(source=Source.SYSTEM)
    assert set(system.values_list("state", flat=True)) == {ReportState.RESOLVED}


def test_the_opening_needs_no_passive_charge_point_and_says_what_it_cannot_show(caplog):
    ChargePointFactory(connectivity="ethernet", state="passive")
    ChargePointFactory(connectivity="ethernet", state_since=timezone.now() - timedelta(days=1))
    simulator = FleetSimulator.for_demo(seed=1, opening=True)
    simulator.episodes_per_minute = 0

    simulator.tick()
    simulator.tick()

    assert [cp.episode for cp in simulator.charge_points] == [None, "fault"]
    assert "no charge point left to show weak_signal (wifi)" in caplog.text
    assert "no charge point left to show disconnect" in caplog.text
