"""PostgreSQL: inserting the new telemetry rows of a batch in one statement
per table, ``INSERT ... SELECT FROM jsonb_to_recordset(...) ON CONFLICT DO
NOTHING RETURNING``, with no model instance per event. The rows travel as
one JSON document: Django's psycopg cursor binds parameters on the client,
quoting an array element by element in Python, and an ``unnest`` of
server-bound arrays measured no faster (docs/benchmarks.md, telemetry
ingest). The unique (charge point, event id) constraint decides what is
new, so two batches carrying the same event at once store it once.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import connection


def _insert_returning(model, columns: str, select: str, record: str, rows: list[dict],
                      now: datetime) -> set[tuple[int, str]]:
    """INSERT the rows (one JSON document) unless their (charge point, event
    id) is there already; the keys of those inserted."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} (charge_point_id, event_id, received_at, {columns}) "
            f"SELECT r.cp, r.id, %s, {select} FROM jsonb_to_recordset(%s::jsonb) AS r(cp bigint, id text, {record}) "
            "ON CONFLICT DO NOTHING RETURNING charge_point_id, event_id",
            [now, json.dumps(rows)],
        )
        return set(cursor.fetchall())
