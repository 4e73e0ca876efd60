"""Seeding and measuring for the OCPP gateway benchmark (bench/ocpp.py): the
bench chargers and their passwords, a free port, a process's memory and
CPU time from /proc, the raw SQL baseline, and percentiles.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import time
from pathlib import Path

from ocpp_clients import PASSWORD, PREFIX


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
