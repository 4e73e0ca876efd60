"""Benchmark of the OCPP gateway on PostgreSQL.

    .venv/bin/python bench/ocpp.py [--chargers 10000] [--workers 4] [--seconds 20]

Seeds ``--chargers`` charge points with OCPP passwords (once; later runs
reuse them), starts ``manage.py ocpp_gateway`` as a subprocess, and drives it
from ``--workers`` client processes, each holding its share of the
connections (raw websocket clients: the ocpp package's client validates every
message in a thread pool, and the clients must not be the bottleneck).

Phases, in one run:

1. connect: every charger connects (Basic auth), boots and reports a status,
   all at once; then the connections are held idle and the gateway's memory
   (VmRSS) is read;
2. throughput: 1,000 of the chargers send StatusNotifications (alternating
   Available/Preparing, so each one moves the live state) as fast as the
   answers come, one call outstanding per charger: messages per second
   stored (a CALLRESULT is only sent once the message is stored) and
   p50/p95 CALL->CALLRESULT;
3. latency at half that rate: the same chargers paced to half the measured
   throughput: p50/p95;
4. reconnect storm: every charger drops its socket and comes back at once
   (connect, BootNotification, StatusNotification): seconds until all are
   back and booted.

It prints the figures; docs/benchmarks.md records them.
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


def worker(pipe, port: int, ids: list[str]) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    asyncio.run(_worker(pipe, port, ids))


async def _worker(pipe, port: int, ids: list[str]) -> None:
    import websockets

    loop = asyncio.get_running_loop()
    sockets: dict[str, object] = {}
    counter = iter(range(10**12))
    retries = [0]
    sem = asyncio.Semaphore(200)

    async def call(ws, action, payload) -> float:
        started = time.perf_counter()
        await ws.send(json.dumps([2, str(next(counter)), action, payload]))
        reply = json.loads(await ws.recv())
        if reply[0] != 3:
            raise RuntimeError(f"{action}: {reply}")
        return time.perf_counter() - started

    def status(value: str) -> dict:
        return {"connectorId": 1, "errorCode": "NoError", "status": value}

    async def come_online(ocpp_id: str) -> None:
        async with sem:
            token = base64.b64encode(f"{ocpp_id}:{PASSWORD.format(ocpp_id)}".encode()).decode()
            for attempt in range(20):
                try:
                    ws = await websockets.connect(
                        f"ws://127.0.0.1:{port}/ocpp/{ocpp_id}", subprotocols=["ocpp1.6"],
                        additional_headers={"Authorization": f"Basic {token}"}, open_timeout=60,
                        ping_interval=None, max_queue=4, compression=None)
                    break
                except (TimeoutError, OSError, websockets.exceptions.InvalidMessage):
                    retries[0] += 1  # a real charger retries too
                    await asyncio.sleep(0.2 * (attempt + 1))
            else:
                raise RuntimeError(f"{ocpp_id} could not connect")
            sockets[ocpp_id] = ws
            await call(ws, "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "B1"})
            await call(ws, "StatusNotification", status("Available"))

    async def load(ids_now: list[str], seconds: float, rate_per_charger: float | None):
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds

        async def one(ocpp_id: str):
            ws = sockets[ocpp_id]
            flip = False
            next_at = time.perf_counter() + (random.random() / rate_per_charger if rate_per_charger else 0)
            while True:
                if rate_per_charger:
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                    next_at += 1 / rate_per_charger
                if time.perf_counter() >= deadline:
                    return
                flip = not flip
                latencies.append(await call(ws, "StatusNotification", status("Preparing" if flip else "Available")))

        await asyncio.gather(*(one(i) for i in ids_now))
        return latencies

    while True:
        command, *args = await loop.run_in_executor(None, pipe.recv)
        started = time.perf_counter()
        if command == "connect":
            retries[0] = 0
            await asyncio.gather(*(come_online(i) for i in ids))
            pipe.send(retries[0])
        elif command == "load":
            count, seconds, rate = args
            pipe.send(await load(ids[:count], seconds, rate))
        elif command == "drop":
            await asyncio.gather(*(ws.close() for ws in sockets.values()))
            sockets.clear()
            pipe.send(time.perf_counter() - started)
        elif command == "stop":
            await asyncio.gather(*(ws.close() for ws in sockets.values()))
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


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chargers", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--busy", type=int, default=1000, help="Chargers that send in the load phases.")
    parser.add_argument("--seconds", type=float, default=20)
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
        before = StateChange.objects.count()
        latencies = [x for part in phase("load", busy_per_worker, options.seconds, None) for x in part]
        stored = StateChange.objects.count() - before
        rate = len(latencies) / options.seconds
        print(f"throughput: {len(latencies)} StatusNotifications answered in {options.seconds:.0f} s by "
              f"{busy_per_worker * options.workers} chargers: {rate:.0f}/s; {stored} state changes stored; "
              f"p50 {percentile(latencies, 50) * 1000:.1f} ms, p95 {percentile(latencies, 95) * 1000:.1f} ms")

        half = rate / 2 / (busy_per_worker * options.workers)
        latencies = [x for part in phase("load", busy_per_worker, options.seconds, half) for x in part]
        print(f"half rate: {len(latencies) / options.seconds:.0f}/s: p50 {percentile(latencies, 50) * 1000:.1f} ms, "
              f"p95 {percentile(latencies, 95) * 1000:.1f} ms")

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
        gateway.wait(30)
        connection.close()


if __name__ == "__main__":
    main()
