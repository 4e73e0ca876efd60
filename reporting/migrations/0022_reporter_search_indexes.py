"""Trigram indexes for searching the reports list by the driver's name or
e-mail address (the report's own reporter fields and each filing's
``ReportReporter`` row), like 0005 for the other searched columns.
PostgreSQL only; nothing to do on SQLite."""

from django.db import migrations

INDEXES = {
    "report_reporter_trgm": (
        "reporting_report USING gin (upper(reporter_name) gin_trgm_ops, upper(reporter_email) gin_trgm_ops)"
    ),
    "reportreporter_contact_trgm": (
        "reporting_reportreporter USING gin (upper(name) gin_trgm_ops, upper(email) gin_trgm_ops)"
    ),
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
    dependencies = [("reporting", "0021_error_hints")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
