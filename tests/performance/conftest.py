"""Hand-made charge point histories for the performance tests: every time is
on one Monday (T0, 2026-03-02, UTC) or the days around it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from chargepoints.models import ChargePoint
from chargepoints.services import telemetry_record_batch
from tests.factories import ChargePointFactory

T0 = datetime(2026, 3, 2, tzinfo=UTC)
_ids = itertools.count()


def at(hours: float = 0, *, day: int = 0) -> datetime:
    return T0 + timedelta(days=day, hours=hours)


def status(cp, when: datetime, ocpp_status: str, connector: int | None = 1, error: str = "") -> dict:
    event = {"event_id": f"s{next(_ids)}", "type": "state_change", "ocpp_id": cp.ocpp_id,
             "occurred_at": when.isoformat(), "status": ocpp_status}
    if connector is not None:
        event["connector"] = connector
    if error:
        event["error_code"] = error
    return event


def disconnected(cp, when: datetime) -> dict:
    return {"event_id": f"d{next(_ids)}", "type": "state_change", "ocpp_id": cp.ocpp_id,
            "occurred_at": when.isoformat(), "state": "disconnected"}


def heartbeat(cp, when: datetime) -> dict:
    return {"event_id": f"h{next(_ids)}", "type": "heartbeat", "ocpp_id": cp.ocpp_id,
            "occurred_at": when.isoformat()}


def charge(cp, start: datetime, minutes: int, energy_wh: int, stop_reason: str = "Local",
           connector: int | None = None) -> dict:
    event = {"event_id": f"c{next(_ids)}", "type": "charge", "ocpp_id": cp.ocpp_id,
             "started_at": start.isoformat(), "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
             "energy_wh": energy_wh, "stop_reason": stop_reason}
    if connector is not None:
        event["connector"] = connector
    return event


def record(*events: dict) -> None:
    results = telemetry_record_batch(events=list(events))
    assert [r.status for r in results] == ["accepted"] * len(events), [r.errors for r in results]


def make_charge_point(created_at: datetime = T0 - timedelta(days=30), **fields) -> ChargePoint:
    cp = ChargePointFactory(**fields)
    ChargePoint.objects.filter(pk=cp.pk).update(created_at=created_at)
    cp.refresh_from_db()
    return cp


@pytest.fixture
def cp():
    """A charge point with two connectors, both available since before T0."""
    charge_point = make_charge_point()
    record(status(charge_point, at(-48), "Available", 1), status(charge_point, at(-48), "Available", 2))
    return charge_point
