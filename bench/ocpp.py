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

The load generator is ``ocpp_clients.py``; seeding and the measurements
(memory, CPU, the raw SQL baseline) are ``ocpp_measures.py``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, bench_setup  # noqa: E402
from ocpp_clients import PREFIX, worker  # noqa: E402
from ocpp_measures import cpu_seconds, free_port, percentile, raw_sql_rate, rss_mb, seed  # noqa: E402


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
