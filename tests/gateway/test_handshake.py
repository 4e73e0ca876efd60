"""Who may connect: refusals at the handshake write nothing; a second
connection that passes authentication replaces the first."""

import asyncio
import time

import pytest
import websockets
from ocpp.v16 import call
from websockets.exceptions import InvalidStatus

from chargepoints.models import Heartbeat, StateChange
from gateway.models import TeamGatewaySettings

from .conftest import basic, connected, db, wait_ended

pytestmark = pytest.mark.django_db(transaction=True)


async def handshake(gateway, ocpp_id, password, subprotocols=("ocpp1.6",), path=None):
    """The HTTP status of a refused handshake (None when it was accepted)."""
    try:
        websocket = await websockets.connect(
            f"ws://127.0.0.1:{gateway.port}{path or '/ocpp/' + ocpp_id}", subprotocols=list(subprotocols),
            additional_headers={"Authorization": basic(ocpp_id, password)} if password is not None else {},
        )
    except InvalidStatus as refused:
        return refused.response.status_code
    await websocket.close()
    return None


def nothing_written(cp):
    return not StateChange.objects.filter(charge_point=cp).exists() and not Heartbeat.objects.exists()


def test_refusals_at_the_handshake_write_nothing(gateway, charger_cp):
    cp, password = charger_cp

    async def scenario():
        return {
            "unknown id": await handshake(gateway, "NO-SUCH-CHARGER", password),
            "wrong password": await handshake(gateway, cp.ocpp_id, password + "x"),
            "no password": await handshake(gateway, cp.ocpp_id, None),
            "other sub-protocol": await handshake(gateway, cp.ocpp_id, password, subprotocols=["ocpp2.0.1"]),
            "wrong path": await handshake(gateway, cp.ocpp_id, password, path="/other/" + cp.ocpp_id),
        }

    assert asyncio.run(scenario()) == {"unknown id": 401, "wrong password": 401, "no password": 401,
                                       "other sub-protocol": 400, "wrong path": 404}
    assert nothing_written(cp)
    cp.refresh_from_db()
    assert cp.state != "disconnected"


def test_a_charge_point_of_a_team_with_connections_switched_off_is_refused(gateway, charger_cp):
    cp, password = charger_cp
    TeamGatewaySettings.objects.create(team=cp.operator, connections_enabled=False)

    assert asyncio.run(handshake(gateway, cp.ocpp_id, password)) == 403
    assert nothing_written(cp)


def test_repeated_failures_from_one_address_are_slowed_down(start_gateway, charger_cp):
    cp, password = charger_cp
    gateway = start_gateway(auth_free_failures=2, auth_max_delay=0.8)

    async def timed():
        started = time.monotonic()
        status = await handshake(gateway, cp.ocpp_id, "wrong")
        return status, time.monotonic() - started

    async def scenario():
        return [await timed() for _ in range(5)]

    attempts = asyncio.run(scenario())
    assert [status for status, _ in attempts] == [401] * 5
    first, _, third, fourth, fifth = (seconds for _, seconds in attempts)
    # The first two are answered at once, then after 0.1 s, 0.2 s, 0.4 s:
    # doubling, up to the limit.
    assert third >= 0.1 and fourth >= 0.2 and fifth >= 0.4
    assert fifth > first + 0.2


def test_a_second_authenticated_connection_replaces_the_first_without_a_disconnect(gateway, charger_cp):
    cp, password = charger_cp

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password) as first:
            await first.call(call.Heartbeat())
            async with connected(gateway, cp.ocpp_id, password) as second:
                await first._connection.wait_closed()
                answer = await second.call(call.Heartbeat())
                disconnects = await db(gateway, lambda: StateChange.objects.filter(
                    charge_point=cp, state="disconnected").count())
            await wait_ended(gateway, cp.ocpp_id, 2)
            return first._connection.close_code, answer, disconnects

    close_code, answer, disconnects_while_replaced = asyncio.run(scenario())
    assert close_code == 4000
    assert answer.current_time
    assert disconnects_while_replaced == 0
    # Only the last socket's close counts.
    assert StateChange.objects.filter(charge_point=cp, state="disconnected").count() == 1


def test_a_second_connection_that_fails_authentication_changes_nothing(gateway, charger_cp):
    cp, password = charger_cp

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password) as first:
            refused = await handshake(gateway, cp.ocpp_id, "not-the-password")
            answer = await first.call(call.Heartbeat())
            code = first._connection.close_code
        await wait_ended(gateway, cp.ocpp_id, 1)
        return refused, answer, code

    refused, answer, close_code = asyncio.run(scenario())
    assert refused == 401 and answer.current_time and close_code in (None, 1000)
