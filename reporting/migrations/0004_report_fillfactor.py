"""Leave room in reporting_report's pages (PostgreSQL only).

Every sweep (once a minute) counts a repeat detection on each open system
report. With full pages each such update writes a new row version into all
nine indexes of the table; with free space on the page it is a HOT update
that touches no index. The benchmark's no-change pass (docs/benchmarks.md)
is what this buys; the price is some disk space on a table of short rows.
"""

from django.db import migrations


def set_fillfactor(value):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE reporting_report SET (fillfactor = {int(value)})")

    return run


class Migration(migrations.Migration):
    dependencies = [("reporting", "0003_health_sweep_schedule")]

    operations = [migrations.RunPython(set_fillfactor(80), set_fillfactor(100))]
