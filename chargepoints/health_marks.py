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
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils import timezone

from .models import HealthMark

# At most this many marks per take: a pass after a long outage catches up
# in bounded steps.
TAKE_LIMIT = 50_000


@dataclass
class Taken:
    """The marks a pass took: charge points changed, and those whose only
    change was a signal reading; ``backlog`` when more were waiting than a
    pass takes (the engine then evaluates the whole fleet instead)."""

    changed: set[int] = field(default_factory=set)
    signal_only: set[int] = field(default_factory=set)
    backlog: bool = False

    def __len__(self) -> int:
        return len(self.changed | self.signal_only)


def health_marks_add(charge_point_ids: Iterable[int], *, now: datetime | None = None,
                     signal_only: bool = False) -> None:
    """Mark these charge points changed (one statement)."""
    ids = sorted(set(charge_point_ids))
    if not ids:
        return
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {HealthMark._meta.db_table} (charge_point_id, marked_at, signal_only) "
                "SELECT cp, %s, %s FROM unnest(%s::bigint[]) AS cp",
                [now, signal_only, ids],
            )
        return
    HealthMark.objects.bulk_create([HealthMark(charge_point_id=cp_id, marked_at=now, signal_only=signal_only)
                                    for cp_id in ids])


def health_marks_take(*, limit: int = TAKE_LIMIT) -> Taken:
    """Delete up to ``limit`` marks (the oldest first) and return them by
    charge point. With more waiting, delete every mark there is and say
    ``backlog``: the caller looks at the whole fleet. Call inside the
    transaction that acts on them."""
    table = HealthMark._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY id LIMIT %s "
                "FOR UPDATE SKIP LOCKED) RETURNING id, charge_point_id, signal_only",
                [limit + 1],
            )
            rows = cursor.fetchall()
        else:
            cursor.execute(f"SELECT id, charge_point_id, signal_only FROM {table} ORDER BY id LIMIT %s", [limit + 1])
            rows = cursor.fetchall()
            if rows:
                HealthMark.objects.filter(id__lte=max(row[0] for row in rows)).delete()
    taken = Taken(backlog=len(rows) > limit)
    if taken.backlog:
        # Every mark committed so far goes (the full evaluation reads
        # afterwards); one committed later stays for the next pass.
        HealthMark.objects.all().delete()
        return taken
    for _id, cp_id, signal_only in rows:
        (taken.signal_only if signal_only else taken.changed).add(cp_id)
    taken.signal_only -= taken.changed
    return taken


def health_marks_pending() -> int:
    """How many marks wait (the health page and the engine's log)."""
    return HealthMark.objects.count()
