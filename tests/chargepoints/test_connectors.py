"""Connector statuses through telemetry_record_batch, and the charge point
state they add up to (chargepoints.connectors)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chargepoints.connectors import connectors_state
from chargepoints.models import ChargePointState, Connector, Heartbeat, StateChange
from chargepoints.services import telemetry_record_batch
from tests import factories

pytestmark = pytest.mark.django_db
S = ChargePointState


def status(cp, event_id, at, connector, ocpp_status, **extra):
    return {"event_id": event_id, "type": "state_change", "ocpp_id": cp.ocpp_id, "occurred_at": at.isoformat(),
            "status": ocpp_status, "connector": connector, **extra}


@pytest.mark.parametrize(
    ("connectors", "expected"),
    [
        ({1: (S.AVAILABLE, "", ""), 2: (S.ERROR, "GroundFailure", "E1")}, (S.ERROR, "GroundFailure", "E1")),
        ({0: (S.ERROR, "OverVoltage", ""), 1: (S.AVAILABLE, "", "")}, (S.ERROR, "OverVoltage", "")),
        ({0: (S.PASSIVE, "", ""), 1: (S.AVAILABLE, "", "")}, (S.PASSIVE, "", "")),
        ({1: (S.PASSIVE, "", ""), 2: (S.PASSIVE, "", "")}, (S.PASSIVE, "", "")),
        ({1: (S.PASSIVE, "", ""), 2: (S.BUSY, "", "")}, (S.BUSY, "", "")),
        ({0: (S.AVAILABLE, "", ""), 1: (S.BUSY, "", ""), 2: (S.AVAILABLE, "", "")}, (S.BUSY, "", "")),
        ({0: (S.AVAILABLE, "", "")}, (S.AVAILABLE, "", "")),
        ({}, (S.UNKNOWN, "", "")),
    ],
)
def test_the_worst_connector_or_connector_zero_decides_the_charge_point_state(connectors, expected):
    assert connectors_state(connectors) == expected


def test_a_faulted_connector_puts_the_charge_point_in_error_until_it_recovers():
    cp = factories.ChargePointFactory(state=S.AVAILABLE, state_since=timezone.now() - timedelta(days=1))
    t = timezone.now() - timedelta(minutes=30)
    telemetry_record_batch(events=[
        status(cp, "a", t, 1, "Available"),
        status(cp, "b", t + timedelta(minutes=1), 2, "Faulted", error_code="GroundFailure", vendor_error_code="X9"),
        status(cp, "c", t + timedelta(minutes=2), 1, "Charging"),
    ])
    cp.refresh_from_db()
    assert (cp.state, cp.state_since, cp.error_code, cp.vendor_error_code) == (
        S.ERROR, t + timedelta(minutes=1), "GroundFailure", "X9")
    assert {c.number: (c.ocpp_status, c.state) for c in Connector.objects.filter(charge_point=cp)} == {
        1: ("Charging", S.BUSY), 2: ("Faulted", S.ERROR)}
    # History keeps each connector's own status.
    assert StateChange.objects.get(event_id="c").state == S.BUSY
    assert StateChange.objects.get(event_id="c").connector == 1

    telemetry_record_batch(events=[status(cp, "d", t + timedelta(minutes=3), 2, "Available")])
    cp.refresh_from_db()
    assert (cp.state, cp.state_since, cp.error_code) == (S.BUSY, t + timedelta(minutes=3), "")


def test_a_status_older_than_its_connectors_latest_is_history_only():
    cp = factories.ChargePointFactory(state=S.AVAILABLE, state_since=timezone.now() - timedelta(days=1))
    t = timezone.now() - timedelta(minutes=10)
    telemetry_record_batch(events=[status(cp, "new", t, 1, "Available")])
    telemetry_record_batch(events=[status(cp, "old", t - timedelta(minutes=5), 1, "Faulted")])
    cp.refresh_from_db()
    assert cp.state == S.AVAILABLE
    assert Connector.objects.get(charge_point=cp, number=1).ocpp_status == "Available"
    assert StateChange.objects.filter(event_id="old").exists()


def test_a_status_after_a_disconnect_brings_the_charge_point_back_even_if_stamped_earlier():
    cp = factories.ChargePointFactory(state=S.AVAILABLE, state_since=timezone.now() - timedelta(days=1))
    now = timezone.now()
    telemetry_record_batch(events=[status(cp, "a", now - timedelta(minutes=30), 1, "Available")])
    telemetry_record_batch(events=[{"event_id": "gone", "type": "state_change", "ocpp_id": cp.ocpp_id,
                                    "occurred_at": (now - timedelta(minutes=20)).isoformat(),
                                    "state": "disconnected"}])
    cp.refresh_from_db()
    assert cp.state == S.DISCONNECTED
    telemetry_record_batch(events=[status(cp, "b", now - timedelta(minutes=1), 1, "Available")])
    cp.refresh_from_db()
    assert cp.state == S.AVAILABLE


def test_a_boot_sets_the_identity_and_counts_as_a_heartbeat():
    cp = factories.ChargePointFactory(vendor="Old", model="M1", firmware_version="1.0", last_heartbeat_at=None)
    at = timezone.now() - timedelta(seconds=5)
    [result] = telemetry_record_batch(events=[{
        "event_id": "boot-1", "type": "boot", "ocpp_id": cp.ocpp_id, "occurred_at": at.isoformat(),
        "vendor": "Alfen", "model": "Eve", "serial_number": "SN-1", "firmware_version": "",
    }])
    assert result.status == "accepted"
    cp.refresh_from_db()
    assert (cp.vendor, cp.model, cp.serial_number, cp.firmware_version, cp.last_heartbeat_at) == (
        "Alfen", "Eve", "SN-1", "1.0", at)
    assert Heartbeat.objects.filter(event_id="boot-1", charge_point=cp).exists()


def test_a_bad_connector_number_is_rejected_and_nothing_is_stored():
    cp = factories.ChargePointFactory()
    [result] = telemetry_record_batch(events=[status(cp, "x", timezone.now(), -1, "Available")])
    assert result.status == "rejected" and "connector" in result.errors
    assert not Connector.objects.exists() and not StateChange.objects.exists()
