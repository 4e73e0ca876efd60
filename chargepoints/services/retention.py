"""Keeping telemetry for its retention (``telemetry_retention_apply``), run
daily by beat (``chargepoints.telemetry_retention``) and by the
``telemetry_retention`` command.

On PostgreSQL the state change, heartbeat and signal reading tables are
partitioned by time (``chargepoints/partitions.py``): the partitions of the
coming days are created ahead, a partition wholly older than its table's
retention is dropped (no row-by-row delete, no bloat, no vacuum), and the
few rows the default partition caught that are past it are deleted.
Elsewhere (SQLite) the rows past retention are deleted. Charges, a plain
table on every database, are deleted by rows in chunks through the ORM, so
the driver reviews that point at one lose the link (SET_NULL) rather than
failing the delete.

Retention (config/settings/telemetry.py): ``TELEMETRY_RETENTION_DAYS`` for
heartbeats and signal readings, ``TELEMETRY_HISTORY_RETENTION_DAYS`` for
state changes and charges. A row is past it when its time (``occurred_at``;
a charge's ``ended_at``) is before now minus that many days.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import Charge, Heartbeat, SignalReading, StateChange
from ..partitions import (
    PARTITIONED,
    create_default_partition,
    create_partition,
    default_name,
    drop_partition,
    partitions,
    period_end,
    period_start,
)

logger = logging.getLogger(__name__)

# Charges deleted per statement: a bounded transaction and IN list.
CHARGE_DELETE_CHUNK = 5_000

_PLAIN = ((StateChange, "occurred_at", "TELEMETRY_HISTORY_RETENTION_DAYS"),
          (Heartbeat, "occurred_at", "TELEMETRY_RETENTION_DAYS"),
          (SignalReading, "occurred_at", "TELEMETRY_RETENTION_DAYS"))


@dataclass
class RetentionReport:
    """What one run did: partitions created and dropped (PostgreSQL), and
    rows deleted per table."""

    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"created": self.created, "dropped": self.dropped, "deleted": self.deleted}


def retention_cutoff(setting: str, *, now: datetime) -> datetime:
    """Rows before this are past the retention the setting names."""
    return now - timedelta(days=getattr(settings, setting))


def telemetry_retention_apply(*, now: datetime | None = None) -> RetentionReport:
    """Create the coming partitions, drop or delete what is past retention;
    what was done. Safe to run twice at once (PostgreSQL: a lock per table)."""
    now = now or timezone.now()
    report = RetentionReport()
    if connection.vendor == "postgresql":
        for spec in PARTITIONED:
            _maintain_partitions(spec, now=now, report=report)
    else:
        for model, column, setting in _PLAIN:
            deleted, _ = model.objects.filter(**{f"{column}__lt": retention_cutoff(setting, now=now)}).delete()
            report.deleted[model._meta.db_table] = deleted
    report.deleted[Charge._meta.db_table] = _delete_old_charges(
        retention_cutoff("TELEMETRY_HISTORY_RETENTION_DAYS", now=now))
    logger.info("Telemetry retention: created %s, dropped %s, deleted %s",
                report.created, report.dropped, report.deleted)
    return report


def _maintain_partitions(spec, *, now: datetime, report: RetentionReport) -> None:
    """One table, in one short transaction: its partitions up to
    TELEMETRY_PARTITIONS_AHEAD_DAYS ahead, those wholly past retention
    dropped, the default partition's old rows deleted."""
    cutoff = retention_cutoff(spec.retention, now=now)
    with transaction.atomic(), connection.cursor() as cursor:
        # A second run at once waits here, then finds the work done.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"telemetry_retention:{spec.table}"])
        # Dropping or attaching a partition refuses while rows written
        # earlier in the same transaction still have their (deferred)
        # foreign key checks pending: check them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        create_default_partition(cursor, spec)
        start = period_start(spec, now)
        while start < now + timedelta(days=settings.TELEMETRY_PARTITIONS_AHEAD_DAYS):
            created = create_partition(cursor, spec, start)
            if created:
                report.created.append(created)
            start = period_end(spec, start)
        for name, start in sorted(partitions(cursor, spec).items(), key=lambda item: item[1]):
            if period_end(spec, start) <= cutoff:
                drop_partition(cursor, name)
                report.dropped.append(name)
        cursor.execute(f'DELETE FROM "{default_name(spec)}" WHERE "{spec.column}" < %s', [cutoff])
        report.deleted[default_name(spec)] = cursor.rowcount


def _delete_old_charges(cutoff: datetime) -> int:
    deleted = 0
    while True:
        ids = list(Charge.objects.filter(ended_at__lt=cutoff).order_by().values_list("pk", flat=True)
                   [:CHARGE_DELETE_CHUNK])
        if not ids:
            return deleted
        with transaction.atomic():
            _, by_model = Charge.objects.filter(pk__in=ids).delete()
        deleted += by_model.get(Charge._meta.label, 0)
