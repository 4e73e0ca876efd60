"""Shared plumbing for the benchmarks in bench/: Django on a PostgreSQL
database of the benchmark's own, bulk seeding in SQL, and timing by medians.

A benchmark script starts with::

    from common import bench_setup, median_seconds, seed_fleet_sql, seed_reports_sql
    bench_setup("bench_admin")

and then imports models and runs its measurements. DATABASE_URL, when set,
overrides the database (it must be PostgreSQL: the seeding uses
generate_series).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_setup(database: str) -> None:
    """Point Django at the benchmark's database (created if missing) and migrate."""
    import psycopg

    url = os.environ.get("DATABASE_URL") or f"postgres://postgres@127.0.0.1:5432/{database}"
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("The benchmarks need PostgreSQL: set DATABASE_URL=postgres://...")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


@contextlib.contextmanager
def plain_or_scope():
    """Within it, the report lists run their team scope as the plain OR
    query (``ReportQuerySet.by_ranges`` does nothing): the previous
    approach, measured in the same run."""
    from reporting.querysets import ReportQuerySet

    by_ranges = ReportQuerySet.by_ranges
    ReportQuerySet.by_ranges = lambda self: self
    try:
        yield
    finally:
        ReportQuerySet.by_ranges = by_ranges


def median_seconds(
    fn: Callable[[], object],
    *,
    runs: int = 7,
    warmup: int = 1,
    before: Callable[[], object] | None = None,
) -> float:
    """Median wall time of ``runs`` calls, after ``warmup`` untimed calls.
    ``before``, when given, runs untimed ahead of every call (e.g. to undo
    what the previous call wrote)."""
    times = []
    for attempt in range(warmup + runs):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        if attempt >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def seed_fleet_sql(charge_points: int, *, teams: int = 100) -> None:
    """Teams, one site per team and ``charge_points`` charge points spread
    over them, inserted with generate_series. Skips what is already there."""
    from django.db import connection

    from accounts.models import Team
    from chargepoints.models import ChargePoint

    if ChargePoint.objects.filter(ocpp_id__startswith="BENCH-").count() >= charge_points:
        return
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO accounts_team (name, country, language, created_at)
            SELECT 'Bench team ' || g, 'NL', 'en', now() FROM generate_series(1, %s) g
            ON CONFLICT (name) DO NOTHING
            """,
            [teams],
        )
        cur.execute(
            """
            INSERT INTO chargepoints_site (team_id, name, address, city, postal_code, country, created_at)
            SELECT t.id, 'Bench site ' || t.id, 'Benchstraat ' || t.id, 'Utrecht', '3500', 'NL', now()
            FROM accounts_team t
            WHERE t.name LIKE 'Bench team %%'
              AND NOT EXISTS (SELECT 1 FROM chargepoints_site s WHERE s.team_id = t.id)
            """
        )
        cur.execute("DELETE FROM chargepoints_chargepoint WHERE ocpp_id LIKE 'BENCH-%%'")
    _insert_charge_points(charge_points)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    assert Team.objects.filter(name__startswith="Bench team").count() >= teams


def _insert_charge_points(count: int) -> None:
    """Insert the charge points by building the row from a template row, so the
    statement keeps working when later migrations add columns with defaults."""
    from django.db import connection

    from chargepoints.models import ChargePoint

    columns = {f.column for f in ChargePoint._meta.concrete_fields} - {"id"}
    values = {
        "site_id": "s.id",
        "owner_id": "s.team_id",
        "operator_id": "s.team_id",
        "name": "'Bench CP ' || g",
        "serial_number": "'BSN' || g",
        "ocpp_id": "'BENCH-' || lpad(g::text, 8, '0')",
        # 13 characters: never one of the 8-character random codes.
        "public_code": "'BENCH' || lpad(g::text, 8, '0')",
        "vendor": "'Alfen'",
        "model": "'Eve'",
        "firmware_version": "'6.4.0'",
        "connectivity": "(ARRAY['wifi','cellular','ethernet'])[1 + g %% 3]",
        "state": "(ARRAY['available','busy','available','passive'])[1 + g %% 4]",
        "state_since": "now() - interval '1 day'",
        "error_code": "''",
        "vendor_error_code": "''",
        "last_heartbeat_at": "now()",
        "created_at": "now()",
    }
    # Columns not named here must be nullable or have a database default.
    chosen = [c for c in sorted(columns) if c in values]
    sql = f"""
        INSERT INTO chargepoints_chargepoint ({", ".join(chosen)})
        SELECT {", ".join(values[c] for c in chosen)}
        FROM generate_series(1, %s) g
        JOIN (SELECT id, team_id, row_number() OVER (ORDER BY id) - 1 AS n FROM chargepoints_site
              WHERE name LIKE 'Bench site %%') s
          ON s.n = g %% (SELECT count(*) FROM chargepoints_site WHERE name LIKE 'Bench site %%')
    """
    with connection.cursor() as cur:
        cur.execute(sql, [count])


def seed_reports_sql(reports: int) -> None:
    """``reports`` reports over the bench charge points, spread over every
    source, reason, state and party and over the last 90 days. A report's
    team follows ``g % 100`` (the charge point's site), so its state and
    party come from ``g / 100`` and ``g / 1000``: every team has reports in
    every state and for both parties (``g % 4`` made one team's all
    resolved)."""
    from django.db import connection, transaction

    from reporting.models import Report

    if Report.objects.filter(description__startswith="Bench report").count() >= reports:
        return
    with transaction.atomic(), connection.cursor() as cur:
        # The dashboards' tally triggers would log every seeded row; the
        # tallies are rebuilt from the reports below instead.
        cur.execute("ALTER TABLE reporting_report DISABLE TRIGGER USER")
        cur.execute("DELETE FROM reporting_report WHERE description LIKE 'Bench report%%'")
        # Inserting millions of rows into a table with its indexes in place
        # updates every index (two of them trigram GIN indexes) row by row;
        # dropping them and building each once afterwards is several times
        # faster. The same definitions come back, so what the benchmarks
        # measure is unchanged; in one transaction, a failed seed leaves
        # the indexes as they were.
        cur.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = 'reporting_report'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f"DROP INDEX {name}")
        cur.execute(
            """
            WITH cps AS (
                SELECT id, owner_id, operator_id, row_number() OVER (ORDER BY id) - 1 AS n
                FROM chargepoints_chargepoint
                WHERE ocpp_id LIKE 'BENCH-%%'
            ), total AS (SELECT count(*) AS c FROM cps),
            reasons AS (
                SELECT * FROM (VALUES
                    (0, 'user', 'not_working'), (1, 'user', 'broken'), (2, 'user', 'parking_blocked'),
                    (3, 'user', 'charge_interrupted'), (4, 'support', 'conversation'),
                    (5, 'user', 'inaccessible'), (6, 'user', 'other')
                ) r(k, source, reason)
            )
            INSERT INTO reporting_report (
                charge_point_id, owner_team_id, operator_team_id, source, reason, description, reporter_name, reporter_email,
                reporter_phone, state, assigned_party, resolution_note, reporter_count, occurrences,
                last_seen_at, created_at, updated_at, resolved_at
            )
            SELECT cps.id, cps.owner_id, cps.operator_id, r.source, r.reason, 'Bench report ' || g, '', '', '',
                   (ARRAY['open','assigned','resolved','resolved'])[1 + (g / 100) %% 4],
                   CASE WHEN r.source = 'support' THEN 'support'
                        ELSE (ARRAY['operator','owner'])[1 + (g / 1000) %% 2] END,
                   '', 1, 1, now() - (g %% 129600) * interval '1 minute',
                   now() - (g %% 129600) * interval '1 minute', now(),
                   CASE WHEN (g / 100) %% 4 >= 2 THEN now() ELSE NULL END
            FROM generate_series(1, %s) g
            JOIN cps ON cps.n = g %% (SELECT c FROM total)
            JOIN reasons r ON r.k = g %% 7
            """,
            [reports],
        )
        # Django's foreign keys are checked at commit; an index cannot be
        # built, nor the table's triggers switched back on, over rows with
        # checks pending, so run them now.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("ALTER TABLE reporting_report ENABLE TRIGGER USER")
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for _, definition in indexes:
            cur.execute(definition)
    from reporting.tallies import tallies_rebuild

    tallies_rebuild()
    with connection.cursor() as cur:
        # As autovacuum leaves a table in steady state: the visibility map
        # set, so the dashboards' index-only scans read no table pages.
        cur.execute("VACUUM ANALYZE reporting_report")
        cur.execute("ANALYZE")


def telemetry_events(ocpp_ids: list[str], count: int, event_id: Callable[[int], str]) -> list[dict]:
    """A realistic telemetry batch for ``POST /api/v1/telemetry/``: half
    heartbeats, a quarter state changes, a fifth signal readings, the rest
    finished charges, spread over ``ocpp_ids`` and the last ``count``
    seconds; ``event_id(i)`` names the i-th event."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    events = []
    for i in range(count):
        occurred = (now - timedelta(seconds=count - i)).isoformat()
        base = {"event_id": event_id(i), "ocpp_id": ocpp_ids[i % len(ocpp_ids)], "occurred_at": occurred}
        slot = i % 20
        if slot < 10:
            events.append({**base, "type": "heartbeat"})
        elif slot < 15:
            status = ("Available", "Charging", "Faulted", "Available", "SuspendedEV")[i % 5]
            events.append({**base, "type": "state_change", "status": status})
        elif slot < 19:
            events.append({**base, "type": "signal", "kind": ("wifi", "cellular")[i % 2], "dbm": -60 - i % 50})
        else:
            started = (now - timedelta(seconds=count - i + 3600)).isoformat()
            events.append({**base, "type": "charge", "started_at": started, "ended_at": occurred,
                           "energy_wh": (i * 37) % 30000, "stop_reason": "Local"})
    return events
