"""simulate_fleet --ocpp: the demo fleet through the gateway as real OCPP
chargers, and what the gateway stores of it."""

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from chargepoints.models import Charge, ChargePoint, Heartbeat, SignalReading, StateChange
from chargepoints.simulation import FleetSimulator
from gateway.simulation import OcppFleetLink
from tests.factories import ChargePointFactory

from .conftest import wait_ended

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_simulator_drives_the_demo_fleet_through_the_gateway(gateway):
    wifi = ChargePointFactory(connectivity="wifi", state_since=timezone.now() - timedelta(days=1))
    faulty = ChargePointFactory(connectivity="ethernet", state_since=timezone.now() - timedelta(days=1))
    simulator = FleetSimulator.for_demo(seed=5)
    simulator.episodes_per_minute = 0
    link = OcppFleetLink(url=f"ws://127.0.0.1:{gateway.port}", ocpp_ids=[wifi.ocpp_id, faulty.ocpp_id])
    simulator.send = link
    start = timezone.now() - timedelta(minutes=3)
    by_id = {cp.ocpp_id: cp for cp in simulator.charge_points}
    try:
        results = link(simulator._start(by_id[faulty.ocpp_id], "fault", start)
                       + simulator._start(by_id[wifi.ocpp_id], "failed_charges", start))
        for second in range(0, 120, 10):
            simulator.tick(now=start + timedelta(seconds=second))
    finally:
        link.close()
        asyncio.run(wait_ended(gateway, faulty.ocpp_id, 1))
        asyncio.run(wait_ended(gateway, wifi.ocpp_id, 1))

    assert [r.status for r in results] == ["accepted"] * 4
    assert simulator.rejected == 0 and simulator.sent > 0
    faulty.refresh_from_db()
    assert Heartbeat.objects.filter(charge_point=faulty).exists()  # its BootNotification
    assert StateChange.objects.filter(charge_point=faulty, connector=1, ocpp_status="Faulted", state="error").exists()
    assert faulty.state == "disconnected"  # the link closed its sockets
    assert SignalReading.objects.filter(charge_point=wifi, kind="wifi").exists()
    assert Charge.objects.filter(charge_point=wifi, outcome="failed").count() == 3
    assert ChargePoint.objects.get(pk=wifi.pk).last_heartbeat_at is not None
