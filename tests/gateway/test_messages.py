"""The gateway over a real websocket, driven by the ocpp package's own
charge point: what each message stores, and disconnects."""

import asyncio
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from ocpp.v16 import call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus, DataTransferStatus, RegistrationStatus

from chargepoints.models import Charge, ChargePoint, Connector, Heartbeat, SignalReading, StateChange
from reporting.catalogue import Reason
from reporting.health.sweep import health_sweep
from reporting.models import Report, ReportState

from .conftest import connected, db, eventually

pytestmark = pytest.mark.django_db(transaction=True)


def status(connector, ocpp_status, error=ChargePointErrorCode.no_error, at=None, vendor_error_code=None):
    return call.StatusNotification(connector_id=connector, error_code=error, status=ocpp_status,
                                   timestamp=(at or timezone.now()).isoformat(),
                                   vendor_error_code=vendor_error_code)


def test_boot_heartbeat_and_statuses_per_connector_are_stored(gateway, charger_cp, settings):
    cp, password = charger_cp

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password) as charger:
            boot = await charger.call(call.BootNotification(
                charge_point_model="Eve Single", charge_point_vendor="Alfen",
                charge_point_serial_number="ACE-1", firmware_version="6.1.0"))
            beat = await charger.call(call.Heartbeat())
            await charger.call(status(1, ChargePointStatus.available))
            await charger.call(status(2, ChargePointStatus.charging))
            busy = await db(gateway, lambda: ChargePoint.objects.get(pk=cp.pk).state)
        gone = await eventually(gateway, lambda: ChargePoint.objects.get(pk=cp.pk).state == "disconnected")
        return boot, beat, busy, gone

    boot, beat, busy, gone = asyncio.run(scenario())
    assert busy == "busy"
    assert boot.status == RegistrationStatus.accepted
    assert boot.interval == settings.OCPP["heartbeat_interval"]
    assert beat.current_time
    cp.refresh_from_db()
    assert (cp.vendor, cp.model, cp.serial_number, cp.firmware_version) == ("Alfen", "Eve Single", "ACE-1", "6.1.0")
    assert cp.last_heartbeat_at is not None
    assert Heartbeat.objects.filter(charge_point=cp).count() >= 2
    assert {c.number: c.ocpp_status for c in Connector.objects.filter(charge_point=cp)} == {
        1: "Available", 2: "Charging"}
    # After the socket closed: disconnected.
    assert gone
    assert StateChange.objects.filter(charge_point=cp, state="disconnected").count() == 1


def test_a_fault_becomes_a_system_report_through_the_sweep_and_resolves_after_recovery(gateway, charger_cp):
    cp, password = charger_cp
    eleven_minutes_ago = timezone.now() - timedelta(minutes=11)

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password) as charger:
            await charger.call(status(1, ChargePointStatus.faulted, ChargePointErrorCode.ground_failure,
                                      at=eleven_minutes_ago, vendor_error_code="RCD-6mA"))
            await db(gateway, health_sweep)
            filed = await db(gateway, lambda: list(Report.objects.filter(charge_point=cp).values_list("reason", "state")))
            await charger.call(status(1, ChargePointStatus.available))
            await db(gateway, health_sweep)
            after = await db(gateway, lambda: list(Report.objects.filter(charge_point=cp).values_list("reason", "state")))
            return filed, after

    filed, after = asyncio.run(scenario())
    assert filed == [(Reason.IN_ERROR, ReportState.OPEN)]
    assert after == [(Reason.IN_ERROR, ReportState.RESOLVED)]
    change = StateChange.objects.get(charge_point=cp, ocpp_status="Faulted")
    assert (change.error_code, change.vendor_error_code, change.connector) == ("GroundFailure", "RCD-6mA", 1)


def test_transactions_become_charges_successful_and_failed(gateway, charger_cp):
    cp, password = charger_cp
    start = timezone.now() - timedelta(minutes=30)

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password) as charger:
            ok = await charger.call(call.StartTransaction(connector_id=1, id_tag="TAG-1", meter_start=1000,
                                                          timestamp=start.isoformat()))
            await charger.call(call.MeterValues(connector_id=1, transaction_id=ok.transaction_id, meter_value=[
                {"timestamp": timezone.now().isoformat(),
                 "sampledValue": [{"value": "5.5", "unit": "kWh", "measurand": "Energy.Active.Import.Register"}]}]))
            await charger.call(call.StopTransaction(meter_stop=12000, timestamp=timezone.now().isoformat(),
                                                    transaction_id=ok.transaction_id, reason="EVDisconnected"))
            bad = await charger.call(call.StartTransaction(connector_id=2, id_tag="TAG-2", meter_start=500,
                                                           timestamp=start.isoformat()))
            stopped = await charger.call(call.StopTransaction(meter_stop=500, timestamp=timezone.now().isoformat(),
                                                              transaction_id=bad.transaction_id))
            return ok, bad, stopped

    ok, bad, stopped = asyncio.run(scenario())
    assert ok.id_tag_info["status"] == "Accepted" and stopped.id_tag_info["status"] == "Accepted"
    good = Charge.objects.get(transaction_id=str(ok.transaction_id))
    assert (good.energy_wh, good.outcome, good.stop_reason, good.started_at) == (11000, "completed",
                                                                                 "EVDisconnected", start)
    failed = Charge.objects.get(transaction_id=str(bad.transaction_id))
    assert (failed.energy_wh, failed.outcome, failed.failure_reason) == (0, "failed", "No energy was delivered.")


def test_signal_strength_arrives_as_a_data_transfer(gateway, charger_cp, settings):
    cp, password = charger_cp
    vendor = settings.OCPP["signal_vendor_id"]

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password) as charger:
            return [
                await charger.call(call.DataTransfer(vendor_id=vendor, message_id="SignalStrength",
                                                     data=json.dumps({"network": "wifi", "dbm": -84}))),
                await charger.call(call.DataTransfer(vendor_id=vendor, message_id="SignalStrength",
                                                     data='{"network": "satellite", "dbm": -84}')),
                await charger.call(call.DataTransfer(vendor_id=vendor, message_id="Other", data="{}")),
                await charger.call(call.DataTransfer(vendor_id="Someone", message_id="SignalStrength")),
            ]

    answers = [answer.status for answer in asyncio.run(scenario())]
    assert answers == [DataTransferStatus.accepted, DataTransferStatus.rejected,
                       DataTransferStatus.unknown_message_id, DataTransferStatus.unknown_vendor_id]
    assert list(SignalReading.objects.filter(charge_point=cp).values_list("kind", "dbm")) == [("wifi", -84)]
    cp.refresh_from_db()
    assert cp.wifi_signal_dbm == -84


def test_a_slow_answer_is_not_the_chargers_silence(start_gateway, charger_cp):
    """A charger waits for the answer to its call before it sends again:
    while the gateway takes longer than the silence limit to answer (a busy
    database), the charger is not silent and stays connected."""
    cp, password = charger_cp
    gateway = start_gateway(heartbeat_interval=1, disconnect_after_intervals=0.5)
    record = gateway.batcher.record

    async def slow_record(*args, **kwargs):
        await asyncio.sleep(1.5)  # three times the silence limit
        return await record(*args, **kwargs)

    gateway.batcher.record = slow_record

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password) as charger:
            boot = await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
            return boot, charger._connection.close_code

    boot, close_code = asyncio.run(scenario())
    assert boot.status == RegistrationStatus.accepted
    assert close_code is None


def test_a_silent_charger_is_disconnected_and_its_reconnect_and_first_status_bring_it_back(start_gateway,
                                                                                         charger_cp):
    cp, password = charger_cp
    gateway = start_gateway(heartbeat_interval=1, disconnect_after_intervals=0.5)

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password) as charger:
            await charger.call(status(1, ChargePointStatus.available))
            gone = await eventually(gateway, lambda: ChargePoint.objects.get(pk=cp.pk).state == "disconnected")
            closed = charger._connection.close_code
        async with connected(gateway, cp.ocpp_id, password) as charger:
            await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
            await charger.call(status(1, ChargePointStatus.available))
            back = await db(gateway, lambda: ChargePoint.objects.get(pk=cp.pk).state)
        return gone, closed, back

    gone, closed, back = asyncio.run(scenario())
    assert gone and closed == 1001
    assert back == "available"
