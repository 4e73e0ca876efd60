"""Broken frames over a real socket: each gets the CALLERROR OCPP-J 1.6
names (section 4.2.3), the connection stays open, and nothing is stored."""

import asyncio
import json
import time

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from chargepoints.models import Connector, StateChange

from .conftest import basic, wait_ended

pytestmark = pytest.mark.django_db(transaction=True)

STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}


async def raw(gateway, cp, password):
    return await websockets.connect(f"ws://127.0.0.1:{gateway.port}/ocpp/{cp.ocpp_id}", subprotocols=["ocpp1.6"],
                                    additional_headers={"Authorization": basic(cp.ocpp_id, password)})


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ('{"not": "json"', ("-1", "FormationViolation")),
        ('{"a": "dict"}', ("-1", "FormationViolation")),
        ('[2, "m1", "Heartbeat", {}, "extra"]', ("m1", "ProtocolError")),
        ('[7, "m2", "Heartbeat", {}]', ("m2", "PropertyConstraintViolation")),
        ('[2, "m3", "Heartbeat", "not an object"]', ("m3", "FormationViolation")),
        ('[2, "m4", "MakeCoffee", {}]', ("m4", "NotImplemented")),
        ('[2, "m5", "RemoteStartTransaction", {"idTag": "x"}]', ("m5", "NotSupported")),
        (json.dumps([2, "m6", "StatusNotification", {**STATUS, "status": "Exploded"}]),
         ("m6", "PropertyConstraintViolation")),
        (json.dumps([2, "m7", "StatusNotification", {**STATUS, "connectorId": "one"}]),
         ("m7", "TypeConstraintViolation")),
        (json.dumps([2, "m8", "StatusNotification", {"connectorId": 1, "status": "Available"}]),
         ("m8", "ProtocolError")),
        (json.dumps([2, "m9", "StatusNotification", {**STATUS, "colour": "red"}]), ("m9", "FormationViolation")),
    ],
)
def test_a_bad_frame_gets_the_specs_callerror_and_the_connection_stays_open(gateway, charger_cp, frame, expected):
    cp, password = charger_cp

    async def scenario():
        websocket = await raw(gateway, cp, password)
        await websocket.send(frame)
        error = json.loads(await asyncio.wait_for(websocket.recv(), 5))
        await websocket.send(json.dumps([2, "ok", "Heartbeat", {}]))
        after = json.loads(await asyncio.wait_for(websocket.recv(), 5))
        await websocket.close()
        await wait_ended(gateway, cp.ocpp_id, 1)
        return error, after

    error, after = asyncio.run(scenario())
    assert (error[0], error[1], error[2]) == (4, *expected)
    assert after[:2] == [3, "ok"]
    assert not StateChange.objects.exclude(state="disconnected").exists()
    assert not Connector.objects.exists()


def test_a_frame_over_the_limit_closes_the_socket_with_a_logged_reason(start_gateway, charger_cp, caplog):
    cp, password = charger_cp
    gateway = start_gateway(max_frame_bytes=1000)

    async def scenario():
        websocket = await raw(gateway, cp, password)
        await websocket.send(json.dumps([2, "big", "DataTransfer", {"vendorId": "x", "data": "x" * 2000}]))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(websocket.recv(), 5)
        await wait_ended(gateway, cp.ocpp_id, 1)
        return websocket.close_code

    assert asyncio.run(scenario()) == 1009
    assert any("a frame over 1000 bytes" in record.getMessage() for record in caplog.records)


def test_a_charger_that_floods_is_read_more_slowly(start_gateway, charger_cp):
    cp, password = charger_cp
    gateway = start_gateway(messages_per_second=20, message_burst=5)

    async def scenario():
        websocket = await raw(gateway, cp, password)
        started = time.monotonic()
        for n in range(25):
            await websocket.send(json.dumps([2, f"h{n}", "Heartbeat", {}]))
        answers = [json.loads(await asyncio.wait_for(websocket.recv(), 10)) for _ in range(25)]
        seconds = time.monotonic() - started
        await websocket.close()
        await wait_ended(gateway, cp.ocpp_id, 1)
        return answers, seconds

    answers, seconds = asyncio.run(scenario())
    assert [a[1] for a in answers] == [f"h{n}" for n in range(25)]
    assert all(a[0] == 3 for a in answers)
    # 5 at once, then 20 at 20 per second.
    assert seconds >= 0.9
