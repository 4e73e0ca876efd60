"""A real gateway on a free loopback port, in a thread with its own event
loop, against the test database (so the tests that use it run with
``transaction=True``: the gateway's database thread sees only committed rows)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
import time

import pytest
import websockets
from ocpp.v16 import ChargePoint as OcppChargePoint

from gateway.server import Config, Gateway
from gateway.services import credential_generate
from tests.factories import ChargePointFactory


@pytest.fixture
def start_gateway():
    """start_gateway(**config overrides) -> a running Gateway (``.port``)."""
    running = []

    def start(**overrides):
        # The remote commands' poll writes from the gateway's thread, and
        # SQLite's shared in-memory test database takes one writer at a
        # time: tests that send no commands keep it quiet.
        overrides.setdefault("command_poll_interval", 3600)
        gateway = Gateway(Config.from_settings(**overrides))
        loop = asyncio.new_event_loop()
        stop = loop.create_future()

        def run():
            asyncio.set_event_loop(loop)
            loop.run_until_complete(gateway.serve("127.0.0.1", 0, stop=stop))
            loop.close()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not hasattr(gateway, "port"):
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.01)
        running.append((loop, stop, thread))
        return gateway

    yield start
    for loop, stop, thread in running:
        loop.call_soon_threadsafe(lambda stop=stop: stop.done() or stop.set_result(None))
        thread.join(15)


@pytest.fixture
def gateway(start_gateway):
    return start_gateway()


@pytest.fixture
def charger_cp():
    """A charge point with an OCPP password: (charge point, password)."""
    cp = ChargePointFactory(last_heartbeat_at=None)
    return cp, credential_generate(charge_point=cp, by=None)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class Charger(OcppChargePoint):
    """The ocpp package's own charge point, as a client."""


@contextlib.asynccontextmanager
async def connected(gateway, ocpp_id: str, password: str, **kwargs):
    """A Charger connected to the gateway, its receive loop running. On the
    way out it waits until the gateway has stored what the close means."""
    ended = gateway.ended[ocpp_id]
    charger_class = kwargs.pop("charger_class", Charger)
    websocket = await websockets.connect(
        f"ws://127.0.0.1:{gateway.port}/ocpp/{ocpp_id}", subprotocols=kwargs.pop("subprotocols", ["ocpp1.6"]),
        additional_headers={"Authorization": basic(ocpp_id, password)}, **kwargs,
    )
    charger = charger_class(ocpp_id, websocket, response_timeout=10)
    task = asyncio.create_task(charger.start())
    try:
        yield charger
    finally:
        task.cancel()
        await websocket.close()
        with contextlib.suppress(BaseException):
            await task
        await wait_ended(gateway, ocpp_id, ended + 1)


async def wait_ended(gateway, ocpp_id: str, count: int) -> None:
    """Until ``count`` sessions of the charger are over, what their close
    means stored."""
    deadline = time.monotonic() + 10
    while gateway.ended[ocpp_id] < count and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


def db(gateway, fn):
    """Run a database check from inside the test's event loop, in the
    gateway's database thread: one connection at a time, as SQLite's shared
    in-memory test database needs."""
    return asyncio.wrap_future(gateway.executor.submit(fn))


async def eventually(gateway, check, timeout=5.0):
    """Poll a database check until it is true (the gateway writes a
    disconnect after the socket is gone, on its own time)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await db(gateway, check)
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)
