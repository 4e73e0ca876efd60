"""Flapping: every change between healthy and unhealthy the sweep makes is a
``HealthFlip`` row; a report whose charge point changed more than
``flips`` times within the window is marked flapping, stays open while the
condition clears, counts episodes, and resolves after the hold-down.
(Settings: ``HEALTH_CHECKS["flapping"]``, ``reporting.health.thresholds``.)"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection

from core.pg_arrays import int_array
from reporting.models import EventKind, HealthFlip, Report
from reporting.services import report_system_events_bulk

from .sql import db_time, ids_match
from .thresholds import Flapping


def forget_old_flips(now: datetime, flapping: Flapping) -> None:
    HealthFlip.objects.filter(at__lt=now - timedelta(minutes=flapping.window_minutes)).delete()


def record_flips(reason: str, cp_ids, *, healthy: bool, now: datetime) -> None:
    cp_ids = list(cp_ids)
    if not cp_ids:
        return
    if connection.vendor != "postgresql":
        HealthFlip.objects.bulk_create(
            [HealthFlip(charge_point_id=cp_id, reason=reason, healthy=healthy, at=now) for cp_id in cp_ids]
        )
        return
    # One array parameter: a thousand rows cost less to send than to write.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {HealthFlip._meta.db_table} (charge_point_id, reason, healthy, at) "
            "SELECT cp, %s, %s, %s FROM unnest(%s::bigint[]) AS cp",
            [reason, healthy, db_time(now), int_array(cp_ids)],
        )


def record_unhealthy_and_count(reason: str, cp_ids: list[int], now: datetime, flapping: Flapping
                                ) -> dict[int, tuple[int, int]]:
    """``record_flips(healthy=False)`` then ``flip_counts`` for the same
    charge points; on PostgreSQL in one statement (the sweep's first pass
    does this for every report it files)."""
    if connection.vendor != "postgresql":
        record_flips(reason, cp_ids, healthy=False, now=now)
        return flip_counts(reason, cp_ids, now, flapping)
    table = HealthFlip._meta.db_table
    with connection.cursor() as cursor:
        # The statement's snapshot does not see its own new rows: each
        # charge point's count is its earlier rows plus the one written.
        cursor.execute(
            f"WITH new AS (INSERT INTO {table} (charge_point_id, reason, healthy, at) "
            "SELECT cp, %s, false, %s FROM unnest(%s::bigint[]) AS cp) "
            "SELECT cp, 1 + count(f.id), 1 + count(f.id) FILTER (WHERE NOT f.healthy) "
            f"FROM unnest(%s::bigint[]) AS cp LEFT JOIN {table} f "
            "ON f.charge_point_id = cp AND f.reason = %s AND f.at >= %s GROUP BY cp",
            [reason, db_time(now), int_array(cp_ids), int_array(cp_ids), reason,
             db_time(now - timedelta(minutes=flapping.window_minutes))],
        )
        return {cp_id: (flips, episodes) for cp_id, flips, episodes in cursor.fetchall()}


def flip_counts(reason: str, cp_ids: list[int], now: datetime, flapping: Flapping
                 ) -> dict[int, tuple[int, int]]:
    """Charge point id -> (changes, unhealthy changes) within the flapping
    window, for those with any: one grouped query over the flip index."""
    if not cp_ids:
        return {}
    match, ids = ids_match("charge_point_id", cp_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT charge_point_id, count(*), sum(CASE WHEN healthy THEN 0 ELSE 1 END) "
            f"FROM {HealthFlip._meta.db_table} WHERE reason = %s AND at >= %s AND {match} GROUP BY charge_point_id",
            [reason, db_time(now - timedelta(minutes=flapping.window_minutes)), *ids],
        )
        return {cp_id: (flips, episodes) for cp_id, flips, episodes in cursor.fetchall()}


def mark_flapping(report_ids: list[int], episodes: dict[int, int], flapping: Flapping) -> None:
    """Mark these reports flapping; from now on ``occurrences`` counts the
    episodes (those within the window so far)."""
    for count in set(episodes[report_id] for report_id in report_ids):
        Report.objects.filter(pk__in=[r for r in report_ids if episodes[r] == count]).update(
            flapping=True, occurrences=max(count, 1))
    report_system_events_bulk(
        report_ids=report_ids, kind=EventKind.COMMENT,
        note=f"Flapping: the condition came and went more than {flapping.flips} times within "
             f"{flapping.window_minutes} minutes. The report stays open while it clears, counts episodes, "
             f"and resolves once the condition has been gone for {flapping.hold_down_minutes} minutes.",
    )
