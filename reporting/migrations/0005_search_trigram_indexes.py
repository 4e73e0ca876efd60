"""Trigram indexes for the back-office search on PostgreSQL.

The reports list searches with icontains, which PostgreSQL runs as
UPPER(column) LIKE '%...%': a B-tree index cannot serve it, so each search
read every report (about 1 s at a million reports, see docs/benchmarks.md).
GIN trigram indexes on the same UPPER() expressions serve it. SQLite has no
such index and needs none at demo sizes, so this does nothing there.
"""

from django.db import migrations

INDEXES = {
    "report_description_trgm": "reporting_report USING gin (upper(description) gin_trgm_ops)",
    "chargepoint_ids_trgm": (
        "chargepoints_chargepoint USING gin "
        "(upper(name) gin_trgm_ops, upper(ocpp_id) gin_trgm_ops, upper(serial_number) gin_trgm_ops)"
    ),
    "site_name_trgm": "chargepoints_site USING gin (upper(name) gin_trgm_ops)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, target in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0004_report_fillfactor"),
        ("chargepoints", "0002_telemetry"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
