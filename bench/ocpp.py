"""Benchmark of the OCPP gateway on PostgreSQL.

    .venv/bin/python bench/ocpp.py [--chargers 10000] [--workers 2] [--busy 1000] [--runs 3] [--seconds 10]

Seeds ``--chargers`` charge points with OCPP passwords (once; later runs
reuse them), starts ``manage.py ocpp_gateway`` as a subprocess, and drives it
from ``--workers`` client processes, each holding its share of the
connections. The clients speak websocket frames themselves with pre-built
CALLs (the websockets library's client cost as much CPU per message as the
gateway): the load generator must not be what limits the figure, and its CPU
is printed.

Phases, in one run:

1. connect: every charger connects (Basic auth), boots and reports a status,
   all at once; then the connections are held idle and the gateway's memory
   (VmRSS) is read;
2. baseline: the same number of state change rows inserted by plain SQL
   (one INSERT ... SELECT FROM jsonb_to_recordset per 500 rows, each in its
   own transaction): the rate a gateway could at best store at;
3. throughput, ``--runs`` times: ``--busy`` chargers send StatusNotifications
   (alternating Available/Preparing, so each one moves the live state) as
   fast as the answers come, one call outstanding per charger: messages per
   second stored (a CALLRESULT is only sent once the message is stored),
   p50/p95 CALL->CALLRESULT, the CPU of the gateway, of its PostgreSQL
   server process and of the clients;
4. latency at a paced rate, ``--runs`` times each: ``--paced-rate`` (1,500
   messages per second) and half the measured throughput;
5. reconnect storm (unless ``--no-storm``): every charger drops its socket
   and comes back at once (connect, BootNotification, StatusNotification):
   seconds until all are back and booted.

Medians of the runs are printed; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, bench_setup  # noqa: E402

PREFIX = "BENCH-OCPP-"
PASSWORD = "bench-password-{}"  # one per charger; the gateway stores only the keyed hash


def seed(chargers: int) -> None:
    from django.db import transaction

    from accounts.models import Team
    from chargepoints.models import ChargePoint, Site
    from gateway.models import ChargePointCredential
    from gateway.services import password_hash

    have = ChargePoint.objects.filter(ocpp_id__startswith=PREFIX).count()
    if have >= chargers:
        return
    with transaction.atomic():
        team, _ = Team.objects.get_or_create(name="OCPP bench", defaults={"country": "NL"})
        site, _ = Site.objects.get_or_create(team=team, name="OCPP bench site", defaults={"country": "NL"})
        ChargePoint.objects.bulk_create(
            [ChargePoint(site=site, owner=team, operator=team, name=f"{PREFIX}{i:06d}", ocpp_id=f"{PREFIX}{i:06d}")
             for i in range(have, chargers)], batch_size=2000,
        )
        credentials = []
        for cp_id, ocpp_id in ChargePoint.objects.filter(ocpp_id__startswith=PREFIX).values_list("pk", "ocpp_id"):
            salt = os.urandom(16).hex()
            credentials.append(ChargePointCredential(
                charge_point_id=cp_id, salt=salt,
                password_hash=password_hash(password=PASSWORD.format(ocpp_id), salt=salt)))
        ChargePointCredential.objects.bulk_create(credentials, batch_size=2000, ignore_conflicts=True)


# --- Client processes ---------------------------------------------------------------
#
# Each charger is an asyncio.Protocol speaking websocket frames itself: the
# upgrade request and every CALL are pre-built bytes (masked with a zero key,
# which RFC 6455 allows the server to accept), and an answer is found by its
# frame header alone. The websockets library's client cost about as much CPU
# per message as the gateway did, so the clients, not the gateway, set the
# figure on a 2-core machine.


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


# --- The run ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_sql_rate(ocpp_ids: list[str], *, batch: int, runs: int) -> float:
    """Rows per second of the lower bound: the same state change rows (one
    per charger, its id and a fresh event id) inserted by one INSERT ...
    SELECT per ``batch`` rows, each in its own transaction, through the
    same Django connection. The rows are deleted afterwards."""
    from django.db import connection, transaction

    from chargepoints.models import ChargePoint, StateChange

    cp_ids = list(ChargePoint.objects.filter(ocpp_id__in=ocpp_ids).values_list("pk", flat=True))
    table = StateChange._meta.db_table
    rates = []
    for run in range(runs):
        rows = [{"cp": cp, "event_id": f"raw-{run}-{n}", "at": "2026-01-01T00:00:00+00:00"}
                for n, cp in enumerate(cp_ids * 5)]
        started = time.perf_counter()
        for offset in range(0, len(rows), batch):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (charge_point_id, event_id, state, ocpp_status, error_code, "
                    "vendor_error_code, occurred_at, connector, received_at) "
                    "SELECT r.cp, r.event_id, 'available', 'Available', '', '', r.at, 1, now() "
                    "FROM jsonb_to_recordset(%s::jsonb) AS r(cp bigint, event_id text, at timestamptz)",
                    [json.dumps(rows[offset:offset + batch])])
        rates.append(len(rows) / (time.perf_counter() - started))
        StateChange.objects.filter(event_id__startswith="raw-").delete()
    return statistics.median(rates)


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chargers", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--busy", type=int, default=1000, help="Chargers that send in the load phases.")
    parser.add_argument("--seconds", type=float, default=10, help="Length of each load run.")
    parser.add_argument("--runs", type=int, default=3, help="Runs of each load phase (the median is printed).")
    parser.add_argument("--paced-rate", type=float, default=1500, help="Messages per second of the paced phase.")
    parser.add_argument("--baseline-batch", type=int, default=500, help="Rows per statement of the SQL baseline.")
    parser.add_argument("--no-storm", action="store_true", help="Skip the reconnect storm.")
    options = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))

    bench_setup("bench_ocpp")
    from django.db import connection

    from chargepoints.models import StateChange

    seed(options.chargers)
    ids = [f"{PREFIX}{i:06d}" for i in range(options.chargers)]
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "OCPP_MESSAGES_PER_SECOND": "1000",
           "OCPP_MESSAGE_BURST": "1000", "LOG_LEVEL": "WARNING"}
    profile = ["-m", "cProfile", "-o", os.environ["OCPP_BENCH_PROFILE"]] if os.environ.get("OCPP_BENCH_PROFILE") else []
    gateway = subprocess.Popen([sys.executable, *profile, "manage.py", "ocpp_gateway", "--port", str(port)], cwd=ROOT,
                               env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("The gateway did not start.") from None
                time.sleep(0.2)
        rss_start = rss_mb(gateway.pid)
        shares = [ids[n::options.workers] for n in range(options.workers)]
        pipes, procs = [], []
        for share in shares:
            ours, theirs = mp.Pipe()
            proc = mp.Process(target=worker, args=(theirs, port, share), daemon=True)
            proc.start()
            pipes.append(ours)
            procs.append(proc)

        def phase(*command):
            for pipe in pipes:
                pipe.send(command)
            return [pipe.recv() for pipe in pipes]

        started = time.perf_counter()
        retried = sum(phase("connect"))
        connect_seconds = time.perf_counter() - started
        time.sleep(3)
        rss_idle = rss_mb(gateway.pid)
        print(f"connect: {options.chargers} chargers connected, booted and reported a status in "
              f"{connect_seconds:.1f} s; gateway RSS {rss_start:.0f} MB at start, {rss_idle:.0f} MB holding them "
              f"({(rss_idle - rss_start) * 1024 / options.chargers:.1f} KB per connection); {retried} handshakes retried")

        busy_per_worker = max(1, options.busy // options.workers)
        busy = busy_per_worker * options.workers
        raw = raw_sql_rate(ids[:busy], batch=options.baseline_batch, runs=options.runs)
        print(f"baseline: raw SQL insert of the same state change rows, {options.baseline_batch} per statement and "
              f"transaction: {raw:.0f} rows/s (median of {options.runs})")

        def gateway_backends() -> list[int]:
            """The PostgreSQL server processes of the gateway's connections
            (their CPU time is read from /proc: the server runs here too)."""
            with connection.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                               "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
                return [pid for (pid,) in cursor.fetchall() if Path(f"/proc/{pid}/stat").exists()]

        def load(rate_per_charger, label):
            runs = []
            for _ in range(options.runs):
                backends = gateway_backends()
                before, gw_cpu, load_avg = StateChange.objects.count(), cpu_seconds(gateway.pid), os.getloadavg()[0]
                pg_cpu = sum(cpu_seconds(pid) for pid in backends)
                parts = phase("load", busy_per_worker, options.seconds, rate_per_charger)
                gw_cpu = cpu_seconds(gateway.pid) - gw_cpu
                pg_cpu = sum(cpu_seconds(pid) for pid in backends) - pg_cpu
                stored = StateChange.objects.count() - before
                latencies = [x for part in parts for x in part[0]]
                errors = [e for part in parts for e in part[2]]
                if errors:
                    raise SystemExit(f"The gateway answered with errors: {errors}")
                runs.append({"answered": len(latencies), "stored": stored, "rate": stored / options.seconds,
                             "p50": percentile(latencies, 50) * 1000, "p95": percentile(latencies, 95) * 1000,
                             "client_cpu": sum(part[1] for part in parts) / options.seconds * 100,
                             "gateway_cpu": gw_cpu / options.seconds * 100, "load": load_avg,
                             "pg_cpu": pg_cpu / options.seconds * 100,
                             "cpu_per_message": (gw_cpu + pg_cpu) / max(1, stored) * 1e6})
                r = runs[-1]
                print(f"  {label}: {r['answered']} answered, {r['stored']} stored in {options.seconds:.0f} s: "
                      f"{r['rate']:.0f}/s; p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms; gateway CPU "
                      f"{r['gateway_cpu']:.0f} %, its PostgreSQL backend {r['pg_cpu']:.0f} %, clients' CPU "
                      f"{r['client_cpu']:.0f} % (of one core; gateway + backend {r['cpu_per_message']:.0f} us "
                      "per message); "
                      f"load average {r['load']:.1f}")
            return {key: statistics.median(r[key] for r in runs) for key in runs[0]}

        m = load(None, "throughput")
        print(f"throughput: {busy} chargers sending StatusNotifications as fast as answered: {m['rate']:.0f} "
              f"stored/s (median of {options.runs}; {m['rate'] / raw:.2f} of the raw SQL rate), p50 "
              f"{m['p50']:.1f} ms, p95 {m['p95']:.1f} ms; gateway CPU {m['gateway_cpu']:.0f} %, its PostgreSQL "
              f"backend {m['pg_cpu']:.0f} %, clients' CPU {m['client_cpu']:.0f} %; gateway + backend "
              f"{m['cpu_per_message']:.0f} us of CPU per message")
        for total in (options.paced_rate, m["rate"] / 2):
            p = load(total / busy, f"paced at {total:.0f}/s")
            print(f"paced at {total:.0f}/s: {p['rate']:.0f} stored/s, p50 {p['p50']:.1f} ms, p95 {p['p95']:.1f} ms "
                  f"(median of {options.runs}); gateway CPU {p['gateway_cpu']:.0f} %, its PostgreSQL backend "
                  f"{p['pg_cpu']:.0f} %, clients' CPU {p['client_cpu']:.0f} %")

        if options.no_storm:
            phase("stop")
            return
        phase("drop")
        time.sleep(5)  # the gateway stores the disconnects
        started = time.perf_counter()
        retried = sum(phase("connect"))
        storm = time.perf_counter() - started
        print(f"reconnect storm: {options.chargers} chargers back, booted and reporting in {storm:.1f} s "
              f"({options.chargers / storm:.0f} per second, {retried} handshakes retried); "
              f"gateway RSS {rss_mb(gateway.pid):.0f} MB")
        phase("stop")
        for proc in procs:
            proc.join(10)
    finally:
        gateway.terminate()
        try:
            # Closing thousands of sockets and storing their disconnects takes
            # a while on a loaded machine.
            gateway.wait(180)
        except subprocess.TimeoutExpired:
            gateway.kill()
            gateway.wait()
        connection.close()


if __name__ == "__main__":
    main()
