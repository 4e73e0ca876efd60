"""Telemetry retention: on PostgreSQL the state change, heartbeat and signal
reading tables become range-partitioned by ``occurred_at``
(``chargepoints/partitions.py``), keeping their rows; elsewhere they stay
plain tables. Either way their event ids become unique per charge point and
event time (a partitioned table's unique constraints must hold the
partition key).

Per table, on PostgreSQL: the old table is renamed, a partitioned one made
like it, the default partition and one partition per period holding rows
(and the periods up to TELEMETRY_PARTITIONS_AHEAD_DAYS ahead) created, the
rows copied, the old table dropped, then its indexes and foreign key
re-created on the partitioned table under their own names and the primary
key made (id, occurred_at). Nothing references these tables by foreign key
(reporting's reviews reference charges, which stay a plain table). It takes
a lock on the tables for as long as the copy lasts: run it in a quiet
moment. Reversible: backwards, the rows are copied into a plain table again.
"""

from datetime import UTC, timedelta

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from chargepoints.partitions import (
    PARTITIONED,
    create_default_partition,
    create_partition,
    period_end,
    period_start,
)

MODELS = {"chargepoints_statechange": "statechange", "chargepoints_heartbeat": "heartbeat",
          "chargepoints_signalreading": "signalreading"}


def _indexes_and_foreign_keys(cursor, table: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The table's plain indexes (not those of its constraints) as CREATE
    statements, and its foreign keys as (name, definition)."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [table],
    )
    indexes = [row[0].replace(" ON ONLY ", " ON ") for row in cursor.fetchall()]
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = %s::regclass AND contype = 'f'", [table])
    return indexes, cursor.fetchall()


def _recreate(cursor, table: str, indexes: list[str], foreign_keys: list[tuple[str, str]]) -> None:
    """Read before the rename, the statements name ``table``: now the new one."""
    for statement in indexes:
        cursor.execute(statement)
    for name, definition in foreign_keys:
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    now = timezone.now()
    with schema_editor.connection.cursor() as cursor:
        for spec in PARTITIONED:
            table, column, old = spec.table, spec.column, f"{spec.table}_unpartitioned"
            indexes, foreign_keys = _indexes_and_foreign_keys(cursor, table)
            cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
            cursor.execute(f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING CONSTRAINTS) '
                           f'PARTITION BY RANGE ("{column}")')
            create_default_partition(cursor, spec)
            cursor.execute(f'SELECT DISTINCT date_trunc(%s, "{column}" AT TIME ZONE \'UTC\') FROM "{old}"',
                           [spec.period])
            starts = {period_start(spec, naive.replace(tzinfo=UTC)) for (naive,) in cursor.fetchall()}
            start = period_start(spec, now)
            while start < now + timedelta(days=settings.TELEMETRY_PARTITIONS_AHEAD_DAYS):
                starts.add(start)
                start = period_end(spec, start)
            for start in sorted(starts):
                create_partition(cursor, spec, start)
            cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
            cursor.execute(f'DROP TABLE "{old}"')
            # The identity sequence went with the old table: a sequence of
            # its own (identity columns on partitioned tables need 17).
            cursor.execute(f'CREATE SEQUENCE "{table}_id_seq" OWNED BY "{table}".id')
            cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN id SET DEFAULT nextval(\'"{table}_id_seq"\')')
            cursor.execute(f'SELECT setval(\'"{table}_id_seq"\', COALESCE(MAX(id), 0) + 1, false) FROM "{table}"')
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY (id, "{column}")')
            _recreate(cursor, table, indexes, foreign_keys)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for spec in PARTITIONED:
            table, old = spec.table, f"{spec.table}_partitioned"
            indexes, foreign_keys = _indexes_and_foreign_keys(cursor, table)
            cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
            cursor.execute(f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING CONSTRAINTS)')
            cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
            cursor.execute(f'DROP TABLE "{old}" CASCADE')
            cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY')
            cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false) "
                           f'FROM "{table}"', [table])
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY (id)')
            _recreate(cursor, table, indexes, foreign_keys)


def _unique(model: str, *fields: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=("charge_point", "event_id", *fields), name=f"{model}_cp_event_id_uniq")


class Migration(migrations.Migration):

    dependencies = [
        ('chargepoints', '0010_operated_for_others_index'),
    ]

    operations = [
        *[migrations.RemoveConstraint(model_name=model, name=f"{model}_cp_event_id_uniq") for model in MODELS.values()],
        migrations.RunPython(partition, unpartition),
        *[migrations.AddConstraint(model_name=model, constraint=_unique(model, "occurred_at"))
          for model in MODELS.values()],
    ]
