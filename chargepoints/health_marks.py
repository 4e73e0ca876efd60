"""Marks for the health engine: the charge points whose health may have
changed since the engine last looked (``HealthMark``).

The telemetry service marks, in the batch's transaction, every charge point
whose state, signal or charges it changed; a move to another team marks the
charge point too (its thresholds may differ). The engine takes the marks in
its own transaction: a pass that fails puts them back by rolling back, and
two passes at once never take the same mark (``SKIP LOCKED``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.utils import timezone

from .models import HealthMark

# At most this many marks per take: a pass after a long outage catches up
# in bounded steps.
TAKE_LIMIT = 50_000


def health_marks_add(charge_point_ids: Iterable[int], *, now: datetime | None = None) -> None:
    """Mark these charge points changed (one statement)."""
    ids = sorted(set(charge_point_ids))
    if not ids:
        return
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {HealthMark._meta.db_table} (charge_point_id, marked_at) "
                "SELECT cp, %s FROM unnest(%s::bigint[]) AS cp",
                [now, ids],
            )
        return
    HealthMark.objects.bulk_create([HealthMark(charge_point_id=cp_id, marked_at=now) for cp_id in ids])


def health_marks_take(*, limit: int = TAKE_LIMIT) -> set[int]:
    """Delete up to ``limit`` marks (the oldest first) and return their
    charge point ids. Call inside the transaction that acts on them."""
    table = HealthMark._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY id LIMIT %s "
                "FOR UPDATE SKIP LOCKED) RETURNING charge_point_id",
                [limit],
            )
            return {row[0] for row in cursor.fetchall()}
        cursor.execute(f"SELECT id, charge_point_id FROM {table} ORDER BY id LIMIT %s", [limit])
        rows = cursor.fetchall()
    if rows:
        HealthMark.objects.filter(id__lte=rows[-1][0]).delete()
    return {cp_id for _id, cp_id in rows}


def health_marks_pending() -> int:
    """How many marks wait (the health page and the engine's log)."""
    return HealthMark.objects.count()
