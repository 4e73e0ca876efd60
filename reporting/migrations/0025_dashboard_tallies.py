"""The dashboards' tallies (reporting/tally_models.py), the triggers on
reporting_report that record every change of a report for them (see
reporting/tallies.py), their backfill from the existing reports, and the
fold every minute in django-celery-beat.

The backfill reads every report once per tally (five grouped scans) while
holding writers of reports (PostgreSQL: SHARE lock, reads go on); 6 to 9
s per million reports on PostgreSQL here (55 s for 10 million). Reversible: backwards drops
the triggers and the tables.
"""

from django.db import migrations, models

from core.periodic_tasks import remove_periodic_task, seed_periodic_task

TASK_NAME = "Dashboards: fold the report tallies"

# Every column a tally groups by: a change to any other (the sweep's
# occurrence count, a note) records nothing.
GROUPED = ("owner_team_id", "operator_team_id", "site_id", "charge_point_id", "created_at", "source", "reason",
           "state", "assigned_party")
DELTA_COLUMNS = ("owner_team_id, operator_team_id, site_id, charge_point_id, hour, source, reason, state, "
                 "assigned_party, n")


def _values(row: str, hour: str) -> str:
    return (f"COALESCE({row}.owner_team_id, 0), COALESCE({row}.operator_team_id, 0), COALESCE({row}.site_id, 0), "
            f"COALESCE({row}.charge_point_id, 0), {hour}, {row}.source, {row}.reason, {row}.state, "
            f"{row}.assigned_party")


def _pg_hour(row: str) -> str:
    return f"floor(extract(epoch FROM {row}.created_at) / 3600)::bigint"


def _sqlite_hour(row: str) -> str:
    return f"(CAST(strftime('%s', {row}.created_at) AS INTEGER) / 3600)"


_CHANGED_PG = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in GROUPED)
_CHANGED_SQLITE = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in GROUPED)
_TALLY_TABLES = ("reporting_reporttallydelta", "reporting_reportopentally", "reporting_reportdaytally",
                 "reporting_reporthourtally", "reporting_reportchargepointday", "reporting_reportchargepointrecent")

POSTGRESQL = [
    # Per statement: one grouped INSERT for however many reports went in.
    f"""CREATE FUNCTION reporting_report_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO reporting_reporttallydelta ({DELTA_COLUMNS})
        SELECT {_values("r", _pg_hour("r"))}, COUNT(*) FROM tally_new r GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER reporting_report_tally_insert AFTER INSERT ON reporting_report
       REFERENCING NEW TABLE AS tally_new FOR EACH STATEMENT EXECUTE FUNCTION reporting_report_tally_insert()""",
    f"""CREATE FUNCTION reporting_report_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO reporting_reporttallydelta ({DELTA_COLUMNS})
        SELECT {_values("r", _pg_hour("r"))}, -COUNT(*) FROM tally_old r GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER reporting_report_tally_delete AFTER DELETE ON reporting_report
       REFERENCING OLD TABLE AS tally_old FOR EACH STATEMENT EXECUTE FUNCTION reporting_report_tally_delete()""",
    # Per row, and only when a grouped column changed: the WHEN clause is
    # checked without calling the function, so the sweep's bumps cost nothing.
    f"""CREATE FUNCTION reporting_report_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO reporting_reporttallydelta ({DELTA_COLUMNS})
        VALUES ({_values("OLD", _pg_hour("OLD"))}, -1), ({_values("NEW", _pg_hour("NEW"))}, 1);
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER reporting_report_tally_update AFTER UPDATE OF {", ".join(GROUPED)} ON reporting_report
       FOR EACH ROW WHEN ({_CHANGED_PG}) EXECUTE FUNCTION reporting_report_tally_update()""",
    f"""CREATE FUNCTION reporting_report_tally_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {" ".join(f"DELETE FROM {table};" for table in _TALLY_TABLES)}
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER reporting_report_tally_truncate AFTER TRUNCATE ON reporting_report
       FOR EACH STATEMENT EXECUTE FUNCTION reporting_report_tally_truncate()""",
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS reporting_report_tally_{name} ON reporting_report; "
    f"DROP FUNCTION IF EXISTS reporting_report_tally_{name}()"
    for name in ("insert", "delete", "update", "truncate")
]

SQLITE = [
    f"""CREATE TRIGGER reporting_report_tally_insert AFTER INSERT ON reporting_report BEGIN
        INSERT INTO reporting_reporttallydelta ({DELTA_COLUMNS}) VALUES ({_values("NEW", _sqlite_hour("NEW"))}, 1);
    END""",
    f"""CREATE TRIGGER reporting_report_tally_delete AFTER DELETE ON reporting_report BEGIN
        INSERT INTO reporting_reporttallydelta ({DELTA_COLUMNS}) VALUES ({_values("OLD", _sqlite_hour("OLD"))}, -1);
    END""",
    f"""CREATE TRIGGER reporting_report_tally_update AFTER UPDATE OF {", ".join(GROUPED)} ON reporting_report
        WHEN {_CHANGED_SQLITE} BEGIN
        INSERT INTO reporting_reporttallydelta ({DELTA_COLUMNS})
        VALUES ({_values("OLD", _sqlite_hour("OLD"))}, -1), ({_values("NEW", _sqlite_hour("NEW"))}, 1);
    END""",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS reporting_report_tally_{name}" for name in ("insert", "delete", "update")]


def _execute(schema_editor, statements):
    # Through a cursor without parameters: SQLite's strftime('%s') must
    # reach the database as written.
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def create_triggers(apps, schema_editor):
    _execute(schema_editor, POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE)


def drop_triggers(apps, schema_editor):
    _execute(schema_editor, POSTGRESQL_DROP if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP)


def backfill(apps, schema_editor):
    from reporting.tallies import tallies_rebuild

    tallies_rebuild()


def schedule(apps, schema_editor):
    seed_periodic_task(
        apps, name=TASK_NAME, task="reporting.tallies_fold", every=1, period="minutes", expire_seconds=60,
        description="Adds the reports changed since the last run to the dashboards' tallies.",
    )


def unschedule(apps, schema_editor):
    remove_periodic_task(apps, name=TASK_NAME)



class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0024_report_teams'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReportTallyDelta',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('owner_team_id', models.BigIntegerField()),
                ('operator_team_id', models.BigIntegerField()),
                ('site_id', models.BigIntegerField()),
                ('charge_point_id', models.BigIntegerField()),
                ('hour', models.BigIntegerField()),
                ('source', models.CharField(max_length=20)),
                ('reason', models.CharField(max_length=40)),
                ('state', models.CharField(max_length=20)),
                ('assigned_party', models.CharField(max_length=20)),
                ('n', models.IntegerField()),
            ],
        ),
        migrations.CreateModel(
            name='ReportTallyState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('since', models.IntegerField()),
                ('folded_at', models.DateTimeField(null=True)),
            ],
        ),
        migrations.CreateModel(
            name='ReportChargePointDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.IntegerField()),
                ('charge_point_id', models.BigIntegerField()),
                ('owner_team_id', models.BigIntegerField()),
                ('operator_team_id', models.BigIntegerField()),
                ('n', models.IntegerField()),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'charge_point_id', 'owner_team_id', 'operator_team_id'), name='report_cp_day_key')],
            },
        ),
        migrations.CreateModel(
            name='ReportChargePointRecent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('charge_point_id', models.BigIntegerField()),
                ('owner_team_id', models.BigIntegerField()),
                ('operator_team_id', models.BigIntegerField()),
                ('n', models.IntegerField()),
            ],
            options={
                'indexes': [models.Index(fields=['-n', 'charge_point_id'], name='report_cp_recent_top_idx'), models.Index(fields=['owner_team_id', '-n', 'charge_point_id'], name='report_cp_recent_owner_idx'), models.Index(fields=['operator_team_id', '-n', 'charge_point_id'], name='report_cp_recent_op_idx')],
                'constraints': [models.UniqueConstraint(fields=('charge_point_id', 'owner_team_id', 'operator_team_id'), name='report_cp_recent_key')],
            },
        ),
        migrations.CreateModel(
            name='ReportDayTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.IntegerField()),
                ('owner_team_id', models.BigIntegerField()),
                ('operator_team_id', models.BigIntegerField()),
                ('site_id', models.BigIntegerField()),
                ('source', models.CharField(max_length=20)),
                ('state', models.CharField(max_length=20)),
                ('n', models.IntegerField()),
            ],
            options={
                'indexes': [models.Index(fields=['owner_team_id', 'day'], name='report_day_tally_owner_idx'), models.Index(fields=['operator_team_id', 'day'], name='report_day_tally_op_idx'), models.Index(condition=models.Q(('site_id', 0), _negated=True), fields=['site_id', 'day'], name='report_day_tally_site_idx'), models.Index(condition=models.Q(('n', 0)), fields=['id'], name='report_day_tally_zero_idx')],
                'constraints': [models.UniqueConstraint(fields=('day', 'owner_team_id', 'operator_team_id', 'site_id', 'source', 'state'), name='report_day_tally_key')],
            },
        ),
        migrations.CreateModel(
            name='ReportHourTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hour', models.BigIntegerField()),
                ('owner_team_id', models.BigIntegerField()),
                ('operator_team_id', models.BigIntegerField()),
                ('site_id', models.BigIntegerField()),
                ('source', models.CharField(max_length=20)),
                ('state', models.CharField(max_length=20)),
                ('n', models.IntegerField()),
            ],
            options={
                'indexes': [models.Index(fields=['owner_team_id', 'hour'], name='report_hour_tally_owner_idx'), models.Index(fields=['operator_team_id', 'hour'], name='report_hour_tally_op_idx'), models.Index(condition=models.Q(('site_id', 0), _negated=True), fields=['site_id', 'hour'], name='report_hour_tally_site_idx'), models.Index(condition=models.Q(('n', 0)), fields=['id'], name='report_hour_tally_zero_idx')],
                'constraints': [models.UniqueConstraint(fields=('hour', 'owner_team_id', 'operator_team_id', 'site_id', 'source', 'state'), name='report_hour_tally_key')],
            },
        ),
        migrations.CreateModel(
            name='ReportOpenTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('owner_team_id', models.BigIntegerField()),
                ('operator_team_id', models.BigIntegerField()),
                ('site_id', models.BigIntegerField()),
                ('source', models.CharField(max_length=20)),
                ('reason', models.CharField(max_length=40)),
                ('state', models.CharField(max_length=20)),
                ('assigned_party', models.CharField(max_length=20)),
                ('n', models.IntegerField()),
            ],
            options={
                'indexes': [models.Index(fields=['operator_team_id'], name='report_open_tally_op_idx'), models.Index(condition=models.Q(('site_id', 0), _negated=True), fields=['site_id'], name='report_open_tally_site_idx'), models.Index(condition=models.Q(('n', 0)), fields=['id'], name='report_open_tally_zero_idx')],
                'constraints': [models.UniqueConstraint(fields=('owner_team_id', 'operator_team_id', 'site_id', 'source', 'reason', 'state', 'assigned_party'), name='report_open_tally_key')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(schedule, unschedule),
    ]
