"""The client processes of the OCPP gateway benchmark (bench/ocpp.py).

Each charger is an asyncio.Protocol speaking websocket frames itself: the
upgrade request and every CALL are pre-built bytes (masked with a zero key,
which RFC 6455 allows the server to accept), and an answer is found by its
frame header alone. The websockets library's client cost about as much CPU
per message as the gateway did, so the clients, not the gateway, set the
figure on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import base64
import random
import resource
import time

PREFIX = "BENCH-OCPP-"
PASSWORD = "bench-password-{}"  # one per charger; the gateway stores only the keyed hash


def _frame(payload: bytes) -> bytes:
    """A masked client text frame (mask key 0: the payload goes as is)."""
    n = len(payload)
    if n < 126:
        header = bytes([0x81, 0x80 | n])
    else:
        header = bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    return header + b"\0\0\0\0" + payload


CLOSE_FRAME = bytes([0x88, 0x82, 0, 0, 0, 0]) + (1000).to_bytes(2, "big")
STATUS = ('"StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"%s"}]' )
STATUS_FRAMES = {value: (STATUS % value).encode() for value in ("Available", "Preparing")}
BOOT = b'"BootNotification",{"chargePointVendor":"Bench","chargePointModel":"B1"}]'


class Charger(asyncio.Protocol):
    """One charger's socket (an asyncio protocol): send a CALL, get told
    when its answer (any CALLRESULT frame) arrives."""

    def __init__(self, worker, ocpp_id: str, port: int) -> None:
        self.worker, self.ocpp_id = worker, ocpp_id
        token = base64.b64encode(f"{ocpp_id}:{PASSWORD.format(ocpp_id)}".encode()).decode()
        self.request = (f"GET /ocpp/{ocpp_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n"
                        f"Authorization: Basic {token}\r\n\r\n").encode()
        self.buffer = bytearray()
        self.open = False
        self.waiter: asyncio.Future | None = None
        self.on_answer = None  # callback(answer bytes) in the load phases
        self.transport = None
        self.sent_at = 0.0
        self.flip = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc) -> None:
        self.open = False
        if self.waiter and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"{self.ocpp_id}: connection lost"))

    def eof_received(self):
        return False

    def pause_writing(self) -> None:
        pass

    def resume_writing(self) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end])
            del buffer[:end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.waiter.set_exception(ConnectionError(head.split(b"\r\n")[0].decode()))
                self.transport.close()
                return
            self.open = True
            self.waiter.set_result(None)
        while len(buffer) >= 2:
            n, offset = buffer[1] & 0x7F, 2
            if n == 126:
                if len(buffer) < 4:
                    return
                n, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif n == 127:
                if len(buffer) < 10:
                    return
                n, offset = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < offset + n:
                return
            opcode = buffer[0] & 0x0F
            payload = bytes(buffer[offset:offset + n])
            del buffer[:offset + n]
            if opcode == 1:
                self.answer(payload)

    def answer(self, payload: bytes) -> None:
        if not payload.startswith(b"[3,"):
            self.worker.errors.append(payload[:200])
        if self.on_answer is not None:
            self.on_answer(self, payload)
        elif self.waiter and not self.waiter.done():
            self.waiter.set_result(payload)

    def send_call(self, action: bytes) -> None:
        self.worker.counter += 1
        self.sent_at = time.perf_counter()
        self.transport.write(_frame(b'[2,"%d",' % self.worker.counter + action))

    async def call(self, action: bytes) -> bytes:
        self.waiter = asyncio.get_running_loop().create_future()
        self.send_call(action)
        return await self.waiter

    def send_status(self) -> None:
        self.flip = not self.flip
        self.send_call(STATUS_FRAMES["Preparing" if self.flip else "Available"])


class Worker:
    def __init__(self, port: int, ids: list[str]) -> None:
        self.port, self.ids = port, ids
        self.chargers: dict[str, Charger] = {}
        self.counter = 0
        self.retries = 0
        self.errors: list[bytes] = []

    async def come_online(self, ocpp_id: str, sem: asyncio.Semaphore) -> None:
        loop = asyncio.get_running_loop()
        async with sem:
            for attempt in range(20):
                charger = Charger(self, ocpp_id, self.port)
                charger.waiter = loop.create_future()
                try:
                    await loop.create_connection(lambda charger=charger: charger, "127.0.0.1", self.port)
                    await asyncio.wait_for(charger.waiter, 60)
                    break
                except (TimeoutError, OSError, ConnectionError):
                    self.retries += 1  # a real charger retries too
                    if charger.transport is not None:
                        charger.transport.close()
                    await asyncio.sleep(0.2 * (attempt + 1))
            else:
                raise RuntimeError(f"{ocpp_id} could not connect")
            self.chargers[ocpp_id] = charger
            await charger.call(BOOT)
            await charger.call(STATUS_FRAMES["Available"])

    async def load(self, count: int, seconds: float, rate_per_charger: float | None) -> list[float]:
        """``count`` chargers send StatusNotifications for ``seconds``: as fast
        as answered (one call outstanding each), or paced to a rate each."""
        loop = asyncio.get_running_loop()
        latencies: list[float] = []
        done = loop.create_future()
        busy = [self.chargers[i] for i in self.ids[:count]]
        deadline = time.perf_counter() + seconds
        outstanding = [0]

        def answered(charger: Charger, payload: bytes) -> None:
            now = time.perf_counter()
            latencies.append(now - charger.sent_at)
            outstanding[0] -= 1
            if now >= deadline:
                if outstanding[0] == 0 and not done.done():
                    done.set_result(None)
                return
            if rate_per_charger is None:
                outstanding[0] += 1
                charger.send_status()

        def tick(charger: Charger, at: float) -> None:
            if at >= deadline:
                return
            outstanding[0] += 1
            charger.send_status()
            loop.call_at(loop.time() + (at + 1 / rate_per_charger - time.perf_counter()), tick, charger,
                         at + 1 / rate_per_charger)

        for charger in busy:
            charger.on_answer = answered
            if rate_per_charger is None:
                outstanding[0] += 1
                charger.send_status()
            else:
                start = time.perf_counter() + random.random() / rate_per_charger
                loop.call_at(loop.time() + (start - time.perf_counter()), tick, charger, start)
        await asyncio.sleep(seconds)
        if outstanding[0]:
            await asyncio.wait_for(done, 60)
        for charger in busy:
            charger.on_answer = None
        return latencies

    def drop(self) -> None:
        for charger in self.chargers.values():
            if charger.transport is not None and not charger.transport.is_closing():
                charger.transport.write(CLOSE_FRAME)
                charger.transport.close()
        self.chargers.clear()


def worker(pipe, port: int, ids: list[str]) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    asyncio.run(_worker(pipe, port, ids))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _worker(pipe, port: int, ids: list[str]) -> None:
    loop = asyncio.get_running_loop()
    me = Worker(port, ids)
    while True:
        command, *args = await loop.run_in_executor(None, pipe.recv)
        started, cpu = time.perf_counter(), _cpu()
        if command == "connect":
            me.retries = 0
            sem = asyncio.Semaphore(200)
            await asyncio.gather(*(me.come_online(i, sem) for i in ids))
            pipe.send(me.retries)
        elif command == "load":
            count, seconds, rate = args
            latencies = await me.load(count, seconds, rate)
            pipe.send((latencies, _cpu() - cpu, me.errors[:3]))
        elif command == "drop":
            me.drop()
            await asyncio.sleep(0.5)
            pipe.send(time.perf_counter() - started)
        elif command == "stop":
            me.drop()
            await asyncio.sleep(0.5)
            pipe.send(None)
            return
