"""PostgreSQL range partitions of the telemetry history tables: which
table is partitioned on which time column by which period, the partitions'
names and bounds, and the DDL that creates and drops them.

A partition covers one UTC day (heartbeats, signal readings: kept a month,
the bulk of the rows) or one ISO week from Monday (state changes: kept over
a year; a week keeps that to about 58 partitions instead of 400, so a query
without a time bound, such as the latest state before a window, probes
few). Each table also has a default partition catching a row for a time no
partition covers yet (a late or future event), so an insert never fails;
creating a partition moves such rows out of the default partition first.

Charges are not partitioned: reporting's driver reviews hold a foreign key
to them, and a partitioned table cannot be referenced by its ``id`` alone.
They are few (one per charging session) and deleted by rows instead.

The migration (0011) and the retention service use these; the names are
``<table>_pYYYYMMDD`` (the period's first day) and ``<table>_default``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

DAY = "day"
WEEK = "week"


@dataclass(frozen=True)
class Partitioned:
    table: str
    column: str
    period: str  # DAY or WEEK
    retention: str  # the setting that says how long its rows are kept


# The partitioned tables (db_table names, so that the migration can use them
# with historical models too).
PARTITIONED = (
    Partitioned("chargepoints_statechange", "occurred_at", WEEK, "TELEMETRY_HISTORY_RETENTION_DAYS"),
    Partitioned("chargepoints_heartbeat", "occurred_at", DAY, "TELEMETRY_RETENTION_DAYS"),
    Partitioned("chargepoints_signalreading", "occurred_at", DAY, "TELEMETRY_RETENTION_DAYS"),
)


def period_start(spec: Partitioned, at: datetime) -> datetime:
    """The start (UTC midnight) of the period holding ``at``."""
    day = at.astimezone(UTC).date()
    if spec.period == WEEK:
        day -= timedelta(days=day.weekday())
    return datetime.combine(day, time(), tzinfo=UTC)


def period_end(spec: Partitioned, start: datetime) -> datetime:
    return start + timedelta(days=7 if spec.period == WEEK else 1)


def partition_name(spec: Partitioned, start: datetime) -> str:
    return f"{spec.table}_p{start:%Y%m%d}"


def default_name(spec: Partitioned) -> str:
    return f"{spec.table}_default"


def partitions(cursor, spec: Partitioned) -> dict[str, datetime]:
    """The table's partitions other than the default one: name -> start."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass",
        [spec.table],
    )
    found = {}
    prefix = f"{spec.table}_p"
    for (name,) in cursor.fetchall():
        if name.startswith(prefix):
            found[name] = datetime.combine(date.fromisoformat(name[len(prefix):]), time(), tzinfo=UTC)
    return found


def create_partition(cursor, spec: Partitioned, start: datetime) -> str | None:
    """Create the partition of the period starting at ``start`` unless it
    exists; its name, or None. Rows of that period already in the default
    partition move into it (attaching would fail with them there)."""
    name = partition_name(spec, start)
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    if cursor.fetchone()[0]:
        return None
    end = period_end(spec, start)
    default = default_name(spec)
    # A standalone table shaped like the parent, filled from the default
    # partition, then attached: the same locks as CREATE ... PARTITION OF,
    # and no row of its period is ever left behind in the default.
    cursor.execute(f'CREATE TABLE "{name}" (LIKE "{spec.table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [default])
    if cursor.fetchone()[0]:
        cursor.execute(
            f'WITH moved AS (DELETE FROM "{default}" WHERE "{spec.column}" >= %s AND "{spec.column}" < %s '
            f"RETURNING *) INSERT INTO \"{name}\" SELECT * FROM moved",
            [start, end],
        )
    cursor.execute(f'ALTER TABLE "{spec.table}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)',
                   [start, end])
    return name


def create_default_partition(cursor, spec: Partitioned) -> None:
    cursor.execute(f'CREATE TABLE IF NOT EXISTS "{default_name(spec)}" PARTITION OF "{spec.table}" DEFAULT')


def drop_partition(cursor, name: str) -> None:
    cursor.execute(f'DROP TABLE "{name}"')
