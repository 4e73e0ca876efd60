"""The gateway process: a websocket server at ``ws://HOST:PORT/ocpp/<ocpp_id>``
with sub-protocol ``ocpp1.6``, one ``Session`` per connected charger.

- The handshake authenticates (HTTP Basic: the OCPP id and its password)
  before anything is written; refusals write nothing. Failed handshakes from
  one address are answered ever more slowly.
- A second connection for a charger that passes authentication replaces the
  first: the old socket is closed and no disconnect is recorded in between
  (a charger whose network died silently reconnects while its old socket
  still looks open). One that fails changes nothing.
- A socket that closes, or stays silent for ``disconnect_after_intervals``
  heartbeat intervals, makes the charge point disconnected. Silence is the
  time the gateway waits for the charger, not the time it takes to answer.
- Telemetry goes through one ``Batcher`` into the telemetry service; the
  database work runs in one thread beside the event loop.

Nothing is kept in the process that another process would need, except the
sockets: transactions live in the database.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus

from django.conf import settings
from django.db import connections
from django.utils import timezone
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from . import selectors, services
from .batcher import AuthBatcher, Batcher
from .protocol.central_system import CentralSystem
from .remote import CommandHub

logger = logging.getLogger("gateway")

PATH = re.compile(r"^/ocpp/([^/?#]{1,100})/?$")
SUBPROTOCOL = "ocpp1.6"
REPLACED = 4000  # close code of a socket a newer connection took over
IMPLICIT_HEARTBEAT_SECONDS = 30  # any message counts as a heartbeat, written at most this often


@dataclass
class Config:
    heartbeat_interval: int
    disconnect_after_intervals: float
    max_frame_bytes: int
    messages_per_second: float
    message_burst: int
    auth_free_failures: int
    auth_max_delay: float
    auth_window: float
    command_poll_interval: float

    @classmethod
    def from_settings(cls, **overrides) -> Config:
        values = {name: settings.OCPP[name] for name in cls.__dataclass_fields__}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def silence_limit(self) -> float:
        return self.heartbeat_interval * self.disconnect_after_intervals


class Throttle:
    """A token bucket: a charger that floods is read more slowly (the socket
    pushes back), it is not cut off."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = float(burst), time.monotonic()

    def delay(self) -> float:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class ThrottledConnection:
    """What the ocpp package reads from and writes to."""

    def __init__(self, websocket: ServerConnection, session: Session) -> None:
        self.websocket, self.session = websocket, session

    async def recv(self):
        # The charger is silent only while the gateway waits for it: it
        # waits for the answer to its call before it sends the next, so the
        # time spent answering (the database, under load) is not its silence.
        self.session.listening = True
        self.session.last_seen = time.monotonic()
        try:
            message = await self.websocket.recv()
        finally:
            self.session.listening = False
        self.session.last_seen = time.monotonic()
        delay = self.session.throttle.delay()
        if delay > 0:
            if not self.session.throttled:
                logger.warning("%s: flooding; reading at %s messages/s", self.session.ocpp_id,
                               self.session.throttle.rate)
            self.session.throttled = True
            await asyncio.sleep(delay)
        else:
            self.session.throttled = False
        return message

    async def send(self, message) -> None:
        await self.websocket.send(message)


@dataclass(eq=False)
class Session:
    gateway: Gateway
    websocket: ServerConnection
    ocpp_id: str
    charge_point_id: int
    throttle: Throttle
    last_seen: float = field(default_factory=time.monotonic)
    listening: bool = False  # waiting for the charger's next message (ThrottledConnection.recv)
    last_heartbeat_written: float = 0.0
    throttled: bool = False
    replaced: bool = False
    close_reason: str = ""
    central: CentralSystem | None = None  # remote commands are sent through it (gateway.remote)

    def event(self, event_type: str, at, **values) -> dict:
        return {"event_id": services.event_id(), "type": event_type, "ocpp_id": self.ocpp_id,
                "occurred_at": at.isoformat(), **values}

    def message_seen(self) -> None:
        self.last_seen = time.monotonic()

    async def record(self, events: list[dict], *, meter=None):
        """Store these events before the CALL is answered. Every message shows
        the charger is there: a heartbeat goes with it now and then."""
        now = time.monotonic()
        if any(event["type"] in ("heartbeat", "boot") for event in events):
            self.last_heartbeat_written = now
        elif now - self.last_heartbeat_written >= IMPLICIT_HEARTBEAT_SECONDS:
            events = [*events, self.event("heartbeat", timezone.now())]
            self.last_heartbeat_written = now
        meters = [services.MeterUpdate(meter[0], self.charge_point_id, meter[1])] if meter else []
        if not events and not meters:
            return []
        return await self.gateway.batcher.record(events, meters)

    async def start_transaction(self, **kwargs) -> int:
        await self.record([])
        return await self.gateway.db(services.transaction_start, charge_point_id=self.charge_point_id, **kwargs)

    async def stop_transaction(self, **kwargs) -> None:
        await self.record([])
        await self.gateway.db(services.transaction_stop, charge_point_id=self.charge_point_id,
                              ocpp_id=self.ocpp_id, **kwargs)

    async def watch(self) -> None:
        """Close the socket when the charger has been silent too long: the
        gateway has waited that long for its next message (not counting the
        time the gateway took to answer the last one)."""
        limit = self.gateway.config.silence_limit
        while True:
            silent = time.monotonic() - self.last_seen
            if silent >= limit and self.listening:
                self.close_reason = f"no message for {silent:.0f} s"
                logger.warning("%s: %s; disconnected", self.ocpp_id, self.close_reason)
                await self.websocket.close(1001, "no heartbeat")
                return
            # Still answering: look again shortly after it listens again.
            await asyncio.sleep(limit - silent if silent < limit else limit / 10)

    async def run(self) -> None:
        central = CentralSystem(self.ocpp_id, ThrottledConnection(self.websocket, self), session=self,
                                logger=logging.getLogger("gateway.messages"),
                                response_timeout=settings.OCPP["command_timeout"])
        self.central = central
        watchdog = asyncio.create_task(self.watch())
        try:
            await central.start()
        except ConnectionClosed as closed:
            if closed.sent and closed.sent.code == 1009:
                self.close_reason = f"a frame over {self.gateway.config.max_frame_bytes} bytes"
                logger.warning("%s: closed: %s", self.ocpp_id, self.close_reason)
        finally:
            watchdog.cancel()


class Gateway:
    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config.from_settings()
        self.sessions: dict[str, Session] = {}
        # One thread for the database: Django connections are per thread,
        # and one writer keeps the batches in order.
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="gateway-db")
        self.batcher: Batcher | None = None
        self.auth: AuthBatcher | None = None
        self.failures: dict[str, list[float]] = defaultdict(list)
        self.refused = 0
        self.ended: Counter[str] = Counter()  # sessions over (disconnect stored), per ocpp_id
        self.server = None
        self.started = asyncio.Event()
        self.commands = CommandHub(self)

    async def db(self, fn, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.executor, lambda: fn(**kwargs))

    # --- Handshake -------------------------------------------------------------------

    def _failure_delay(self, address: str) -> float:
        now = time.monotonic()
        recent = [t for t in self.failures.get(address, ()) if now - t < self.config.auth_window]
        if recent:
            self.failures[address] = recent
        else:
            self.failures.pop(address, None)
        extra = len(recent) - self.config.auth_free_failures
        return 0.0 if extra < 0 else min(self.config.auth_max_delay, 0.1 * 2 ** extra)

    def _refuse(self, connection, address: str, status: HTTPStatus, text: str, ocpp_id: str):
        self.failures[address].append(time.monotonic())
        self.refused += 1
        logger.warning("Refused %s from %s: %s", ocpp_id or "?", address, text)
        response = connection.respond(status, text + "\n")
        if status == HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
        return response

    async def process_request(self, connection: ServerConnection, request):
        address = (connection.remote_address or ("?",))[0]
        delay = self._failure_delay(address)
        if delay:
            await asyncio.sleep(delay)
        match = PATH.match(request.path)
        if not match:
            return self._refuse(connection, address, HTTPStatus.NOT_FOUND, "Connect to /ocpp/<charge point id>.", "")
        ocpp_id = match.group(1)
        offered = ",".join(request.headers.get_all("Sec-WebSocket-Protocol"))
        if SUBPROTOCOL not in [p.strip() for p in offered.split(",")]:
            return self._refuse(connection, address, HTTPStatus.BAD_REQUEST,
                                "Only the ocpp1.6 sub-protocol is spoken here.", ocpp_id)
        username, password = _basic_auth(request.headers.get("Authorization", ""))
        if username != ocpp_id or not password:
            return self._refuse(connection, address, HTTPStatus.UNAUTHORIZED,
                                "HTTP Basic auth with the charge point id and its password is required.", ocpp_id)
        auth = await self.auth.authenticate(ocpp_id, password)
        if auth.refusal == selectors.SWITCHED_OFF:
            return self._refuse(connection, address, HTTPStatus.FORBIDDEN,
                                "This charge point's team has OCPP connections switched off.", ocpp_id)
        if auth.refusal:
            # Unknown id and wrong password look alike from outside.
            return self._refuse(connection, address, HTTPStatus.UNAUTHORIZED, "Wrong charge point id or password.",
                                ocpp_id)
        connection.ocpp_id, connection.charge_point_id = ocpp_id, auth.charge_point_id
        return None

    # --- Connections ------------------------------------------------------------------

    async def handler(self, websocket: ServerConnection) -> None:
        session = Session(self, websocket, websocket.ocpp_id, websocket.charge_point_id,
                          Throttle(self.config.messages_per_second, self.config.message_burst))
        old = self.sessions.get(session.ocpp_id)
        self.sessions[session.ocpp_id] = session
        self.commands.connected(session)
        if old is not None:
            old.replaced = True
            logger.warning("%s: a new connection from %s replaces the one from %s", session.ocpp_id,
                           _address(websocket), _address(old.websocket))
            await old.websocket.close(REPLACED, "replaced by a new connection")
        logger.info("%s: connected from %s", session.ocpp_id, _address(websocket))
        try:
            await session.run()
        finally:
            if self.sessions.get(session.ocpp_id) is session:
                del self.sessions[session.ocpp_id]
            self.commands.disconnected(session)
            if not session.replaced:
                logger.info("%s: disconnected (%s)", session.ocpp_id, session.close_reason or "socket closed")
                try:
                    await self.batcher.record([session.event("state_change", timezone.now(),
                                                             state="disconnected")])
                except Exception:
                    logger.exception("%s: the disconnect could not be stored", session.ocpp_id)
            self.ended[session.ocpp_id] += 1

    async def serve(self, host: str, port: int, *, stop: asyncio.Future | None = None) -> None:
        self.batcher = Batcher(self.executor)
        self.auth = AuthBatcher(self.executor)
        await self.commands.start()
        tasks = [asyncio.create_task(self.batcher.run()), asyncio.create_task(self.auth.run()),
                 asyncio.create_task(self.commands.run())]
        try:
            async with serve(
                self.handler, host, port, subprotocols=[SUBPROTOCOL], process_request=self.process_request,
                max_size=self.config.max_frame_bytes, ping_interval=None, close_timeout=5,
                server_header="ocpp-gateway",
                # A reconnect storm: thousands of handshakes at once must not
                # overflow the listen queue (the kernel caps it at somaxconn).
                backlog=4096, open_timeout=60,
            ) as server:
                self.server = server
                self.port = server.sockets[0].getsockname()[1]
                self.started.set()
                logger.info("OCPP gateway listening on ws://%s:%s/ocpp/<id>", host, self.port)
                await (stop if stop is not None else asyncio.get_running_loop().create_future())
                server.close(close_connections=True)
                await server.wait_closed()
                # Let the disconnects the closing recorded reach the database.
                while self.batcher.pending:
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.1)
                await self.commands.stop()
        finally:
            for task in tasks:
                task.cancel()
            await self.db(connections.close_all)
            self.executor.shutdown(wait=True)


def _basic_auth(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    username, _, password = decoded.partition(":")
    return username, password


def _address(websocket) -> str:
    address = websocket.remote_address or ("?", 0)
    return f"{address[0]}:{address[1]}"
