"""The daily rollups carry their charge point's owner and operator teams, so
a team's dashboard and totals read an index range of its rows instead of
joining its charge points: the columns (nullable, no constraint: added
without rewriting the tables), filled from the charge points in one UPDATE
per table, then the team indexes (plain, locking builds).

Not atomic: each step commits, so the index builds skip the row versions
the fill replaced (inside one transaction they would still be indexed, the
operator's partial indexes holding every old row with no team). On
PostgreSQL the fill writes a new version of every row, doubling the
tables on disk, so they are then rewritten compactly (VACUUM FULL: the
reads that scan them, a site's totals, stay as fast as before), vacuumed
(the visibility map, for index-only reads) and analysed, before the new
indexes are built. At a million charge points (5M charge point days) it
takes about two minutes and locks the two tables meanwhile: run it in a
quiet moment (the refresh writes them; the figures wait)."""

import django.db.models.deletion
from django.db import migrations, models

FILL = ("UPDATE {table} SET owner_team_id = c.owner_id, operator_team_id = c.operator_id "
        "FROM chargepoints_chargepoint c WHERE c.id = {table}.charge_point_id")
TABLES = ("performance_portday", "performance_chargepointday")


def vacuum(apps, schema_editor):
    """PostgreSQL: rewrite the tables without the replaced row versions
    (their indexes rebuilt), then set the visibility map and gather the new
    columns' statistics (outside a transaction)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM (FULL) {table}")
            # A rewrite leaves the visibility map empty: without a plain
            # vacuum the index-only reads would visit the table per row.
            cursor.execute(f"VACUUM (ANALYZE) {table}")


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('accounts', '0008_user_preferences_and_names'),
        ('chargepoints', '0012_telemetry_retention_schedule'),
        ('performance', '0007_covering_dashboard_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='chargepointday',
            name='operator_team',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='accounts.team'),
        ),
        migrations.AddField(
            model_name='chargepointday',
            name='owner_team',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='accounts.team'),
        ),
        migrations.AddField(
            model_name='portday',
            name='operator_team',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='accounts.team'),
        ),
        migrations.AddField(
            model_name='portday',
            name='owner_team',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='accounts.team'),
        ),
        migrations.RunSQL(FILL.format(table=TABLES[0]), migrations.RunSQL.noop),
        migrations.RunSQL(FILL.format(table=TABLES[1]), migrations.RunSQL.noop),
        migrations.RunPython(vacuum, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='chargepointday',
            index=models.Index(fields=['owner_team', 'day', 'charge_point'], include=('attempts', 'successes'), name='perf_cpday_owner_idx'),
        ),
        migrations.AddIndex(
            model_name='chargepointday',
            index=models.Index(condition=models.Q(('failed__gt', 0)), fields=['owner_team', 'day', 'charge_point'], include=('failed',), name='perf_cpday_owner_failed_idx'),
        ),
        migrations.AddIndex(
            model_name='chargepointday',
            index=models.Index(condition=models.Q(('operator_team', models.F('owner_team')), _negated=True), fields=['operator_team', 'day', 'charge_point'], include=('attempts', 'successes', 'failed'), name='perf_cpday_operator_idx'),
        ),
        migrations.AddIndex(
            model_name='portday',
            index=models.Index(fields=['owner_team', 'day', 'charge_point'], include=('connector', 'outage_seconds', 'excluded_seconds'), name='perf_portday_owner_idx'),
        ),
        migrations.AddIndex(
            model_name='portday',
            index=models.Index(condition=models.Q(('operator_team', models.F('owner_team')), _negated=True), fields=['operator_team', 'day', 'charge_point'], include=('connector', 'outage_seconds', 'excluded_seconds'), name='perf_portday_operator_idx'),
        ),
    ]
