"""The HTTP half of ``bench/ingest.py``: the production web server
(gunicorn as Procfile.production starts it, production settings, on the
benchmark's database) on a free loopback port, and concurrent clients
posting batches of 1,000 events to ``POST /api/v1/telemetry/``.

Every client is a team of its own with a real API key (its team's telemetry
limit raised, as support would for a busy integrator) and posts for that
team's 100 charge points. The bodies are built and JSON-encoded before the
clock starts, and each client keeps a connection of its own, so the clients
cost the machine little besides reading the answers (their CPU is printed).
"""

from __future__ import annotations

import http.client
import json
import os
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
REDIS_DB = 8  # this benchmark's Redis database: broker and cache (rate limits)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with ``workers`` processes in a process group of its own,
    stopped (the whole group) on exit. ``config``: a gunicorn config module
    (the ORM baseline's hook)."""

    def __init__(self, *, database: str, workers: int, config: str | None = None) -> None:
        self.port = _free_port()
        self.workdir = tempfile.mkdtemp(prefix="bench-ingest-")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_ENV_FILE": "/nonexistent",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": f"http://127.0.0.1:{self.port}",
            # bench_setup() set it: the benchmark's database, or DATABASE_URL's.
            "DATABASE_URL": os.environ.get("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{database}"),
            "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "CACHE_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            # Nothing listens there: no e-mail leaves the machine.
            "EMAIL_URL": f"smtp://127.0.0.1:{_free_port()}",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "LOG_FORMAT": "json",
            "VAR_DIR": self.workdir,
        }
        command = [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(workers), "--timeout", "30", "--graceful-timeout", "30",
                   "--max-requests", "2000", "--max-requests-jitter", "200", "--access-logfile", "-",
                   "--error-logfile", "-",
                   # gunicorn 27's control socket sits at one path per user: not
                   # shared with another gunicorn on this machine.
                   "--no-control-socket"]
        if config:
            command += ["--config", f"python:{config}"]
            env["PYTHONPATH"] = f"{BENCH}{os.pathsep}{env.get('PYTHONPATH', '')}"
        self.log = open(Path(self.workdir) / "gunicorn.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.__exit__()
                raise SystemExit(f"gunicorn stopped:\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        self.__exit__()
        raise SystemExit(f"gunicorn did not answer /healthz in 60 s:\n{self.tail()}")

    def tail(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return (Path(self.workdir) / "gunicorn.log").read_text(errors="replace")[-3000:]

    def __exit__(self, *exc) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:  # already gone
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


def _senders(count: int) -> list[tuple[str, list[str]]]:
    """One (API key, the team's OCPP ids) per client: a team each, its
    telemetry limit raised so that the limit is not what is measured."""
    from accounts.models import ApiKey, Role, Team, User
    from accounts.services import api_key_create
    from chargepoints.models import ChargePoint

    support, _ = User.objects.get_or_create(
        email="bench-support@example.com", defaults={"is_staff": True, "is_superuser": True}
    )
    senders = []
    for n in range(10, 10 + count):
        team = Team.objects.get(name=f"Bench team {n}")
        Team.objects.filter(pk=team.pk).update(api_telemetry_per_minute=1_000_000)
        ApiKey.objects.filter(team=team, name="bench-ingest").delete()
        key = api_key_create(team=team, name="bench-ingest", role=Role.ADMIN, by=support)[1]
        senders.append((key, list(ChargePoint.objects.filter(owner=team).values_list("ocpp_id", flat=True))))
    return senders


def _post_all(port: int, key: str, bodies: list[bytes], failures: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Host": "127.0.0.1"}
    for body in bodies:
        conn.request("POST", "/api/v1/telemetry/", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        if response.status != 200 or json.loads(answer)["accepted"] != 1000:
            failures.append(f"{response.status}: {answer[:300]!r}")
    conn.close()


def _run(port: int, senders, batches: int, make_events) -> float:
    """Every client posts ``batches`` batches at once; events/s overall."""
    bodies = [[json.dumps({"events": make_events(ids)}).encode() for _ in range(batches)] for _, ids in senders]
    failures: list[str] = []
    threads = [threading.Thread(target=_post_all, args=(port, key, mine, failures))
               for (key, _), mine in zip(senders, bodies, strict=True)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} batches failed, e.g. {failures[0]}")
    return len(senders) * batches * 1000 / seconds


def _measure(server: Server, senders, clients: list[int], runs: int, batches: int, make_events) -> dict[int, float]:
    # Warm every worker up (its database connection, the first request's
    # imports): a cold worker's first batches take several times as long.
    _run(server.port, senders, 3, make_events)
    rates = {}
    for count in clients:
        rates[count] = statistics.median(_run(server.port, senders[:count], batches, make_events)
                                         for _ in range(runs))
    return rates


def bench_http(*, clients: list[int], workers: int, runs: int, batches: int, database: str, make_events) -> None:
    import redis

    senders = _senders(max(clients))
    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()
    results = {}
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    for name, config in (("service", None), ("ORM bulk path (baseline)", "ingest_orm_baseline")):
        with Server(database=database, workers=workers, config=config) as server:
            results[name] = _measure(server, senders, clients, runs, batches, make_events)
            if "Traceback" in server.tail():
                print(server.tail(), file=sys.stderr)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = cpu.ru_utime + cpu.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    print(f"\nHTTP, gunicorn with {workers} workers, production settings; POST /api/v1/telemetry/, batches of "
          f"1,000; median of {runs} runs of {batches} batches per client")
    print(f"  {'clients':>7} {'service':>14} {'ORM bulk path':>16} {'ratio':>6}")
    for count in clients:
        ours, orm = results["service"][count], results["ORM bulk path (baseline)"][count]
        print(f"  {count:>7} {ours:>9,.0f} ev/s {orm:>11,.0f} ev/s {ours / orm:>5.2f}x")
    print(f"  (the clients, building the batches included, used {client_cpu:.1f} s of CPU)")
    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()
