"""The report timeline as the outbox (healthchecks' ``Flip``): reporting only
writes ``ReportEvent`` rows; this module claims the unprocessed ones and turns
them into e-mails in the same transaction, so each event is processed exactly
once, however many workers and sweeps run at the same time."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from reporting.models import Report, ReportEvent

from .services import notifications_for_report_events

# Events per transaction: a burst of a thousand filed reports is a handful of
# batches, each a few statements.
BATCH = 500


def _claim(*, now: datetime, limit: int) -> list[int]:
    """Mark up to ``limit`` unprocessed events as processed and return their
    ids. The UPDATE is the claim: on PostgreSQL rows another transaction holds
    are skipped; SQLite lets one writer in at a time."""
    table = ReportEvent._meta.db_table
    lock = "FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET processed_at = %s WHERE id IN ("
            f"SELECT id FROM {table} WHERE processed_at IS NULL ORDER BY id LIMIT %s {lock}) "
            "RETURNING id",
            [ReportEvent._meta.get_field("processed_at").get_db_prep_save(now, connection), limit],
        )
        return sorted(row[0] for row in cursor.fetchall())


def notifications_process_events(*, batch: int = BATCH, max_batches: int = 20) -> int:
    """Process new timeline events into outbox rows; returns how many events
    were processed. Called on commit of every report change and by the
    periodic sweep, which catches up whatever a lost task left."""
    processed = 0
    for _ in range(max_batches):
        with transaction.atomic():
            ids = _claim(now=timezone.now(), limit=batch)
            if not ids:
                break
            events = list(ReportEvent.objects.filter(pk__in=ids).order_by("id"))
            by_id = Report.objects.with_context().in_bulk({event.report_id for event in events})
            for event in events:
                event.report = by_id[event.report_id]
            notifications_for_report_events(events=events)
            processed += len(ids)
        if len(ids) < batch:
            break
    return processed
