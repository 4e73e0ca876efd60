"""Lighter writes of reports, timeline rows and the health engine's rows
(the sweep's first pass files ten thousand reports in one statement):

- a single-column index that a composite index already leads with is
  dropped (a report's charge point, a timeline row's report, a health
  row's charge point);
- foreign keys most rows leave empty (a report's site, assignee and filer;
  a timeline row's actor and person) are indexed only where set, and the
  reply token is unique only where set (without a pattern index: it is
  looked up whole);
- the health engine's deadlines and flips keep no database foreign key
  (see reporting/health_models.py).

On PostgreSQL only those indexes and constraints are dropped (Django's own
field change would also drop and re-validate every other foreign key of
these fields: a full scan of the reports each, under an exclusive lock).
The new partial indexes read every report once but hold only the rows
that name something: a few seconds at ten million reports. Reversible.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# What Django made for the fields before (names derived from the table and
# column: the same on every installation).
DROPPED_INDEXES = {
    "reporting_healthdeadline": [("reporting_healthdeadline_charge_point_id_26bc3501", "charge_point_id")],
    "reporting_healthflip": [("reporting_healthflip_charge_point_id_32231aff", "charge_point_id")],
    "reporting_report": [
        ("reporting_report_assigned_to_id_60d4fdd6", "assigned_to_id"),
        ("reporting_report_charge_point_id_bcfd6706", "charge_point_id"),
        ("reporting_report_reported_by_id_e34c700b", "reported_by_id"),
        ("reporting_report_site_id_fbea07b9", "site_id"),
    ],
    "reporting_reportevent": [
        ("reporting_reportevent_actor_id_ce48ec88", "actor_id"),
        ("reporting_reportevent_report_id_6a4ab40c", "report_id"),
        ("reporting_reportevent_to_person_id_88fede88", "to_person_id"),
    ],
}
DROPPED_FKS = {
    "reporting_healthdeadline": "reporting_healthdead_charge_point_id_26bc3501_fk_chargepoi",
    "reporting_healthflip": "reporting_healthflip_charge_point_id_32231aff_fk_chargepoi",
}
POSTGRESQL_FORWARDS = [
    *(f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{name}"' for table, name in DROPPED_FKS.items()),
    *(f'DROP INDEX IF EXISTS "{name}"' for indexes in DROPPED_INDEXES.values() for name, _column in indexes),
    'ALTER TABLE "reporting_report" DROP CONSTRAINT IF EXISTS "reporting_report_reply_token_key"',
    'DROP INDEX IF EXISTS "reporting_report_reply_token_15c1af2a_like"',
]
POSTGRESQL_BACKWARDS = [
    *(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")'
      for table, indexes in DROPPED_INDEXES.items() for name, column in indexes),
    'ALTER TABLE "reporting_report" ADD CONSTRAINT "reporting_report_reply_token_key" UNIQUE ("reply_token")',
    'CREATE INDEX "reporting_report_reply_token_15c1af2a_like" ON "reporting_report" '
    '("reply_token" varchar_pattern_ops)',
    *(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY ("charge_point_id") '
      'REFERENCES "chargepoints_chargepoint" ("id") DEFERRABLE INITIALLY DEFERRED'
      for table, name in DROPPED_FKS.items()),
]


def _restore_sqlite_triggers(schema_editor):
    """SQLite changes a column by building the table anew, which drops the
    table's triggers: the report tallies' (migration 0025) go back."""
    tallies = importlib.import_module("reporting.migrations.0025_dashboard_tallies")
    tallies._execute(schema_editor, [*tallies.SQLITE_DROP, *tallies.SQLITE])


class AlterFieldsInPlace(migrations.operations.base.Operation):
    """Field changes done on PostgreSQL as the statements above and
    elsewhere (SQLite rebuilds its tables) as Django does them."""

    reversible = True

    def __init__(self, operations):
        self.operations = operations

    def deconstruct(self):
        return self.__class__.__name__, [self.operations], {}

    def state_forwards(self, app_label, state):
        for operation in self.operations:
            operation.state_forwards(app_label, state)

    def _states(self, app_label, before):
        """The state before each operation, and after the last."""
        states = [before.clone()]
        for operation in self.operations:
            states.append(states[-1].clone())
            operation.state_forwards(app_label, states[-1])
        return states

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            for sql in POSTGRESQL_FORWARDS:
                schema_editor.execute(sql)
            return
        states = self._states(app_label, from_state)
        for index, operation in enumerate(self.operations):
            operation.database_forwards(app_label, schema_editor, states[index], states[index + 1])
        _restore_sqlite_triggers(schema_editor)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        # Backwards, ``to_state`` is the state before this operation.
        if schema_editor.connection.vendor == "postgresql":
            for sql in POSTGRESQL_BACKWARDS:
                schema_editor.execute(sql)
            return
        states = self._states(app_label, to_state)
        for index in reversed(range(len(self.operations))):
            self.operations[index].database_backwards(app_label, schema_editor, states[index + 1], states[index])
        _restore_sqlite_triggers(schema_editor)

    def describe(self):
        return "Drop the foreign key indexes composite or partial indexes replace"


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0008_user_preferences_and_names'),
        ('chargepoints', '0013_health_engine'),
        ('reporting', '0029_report_operated_for_others_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AlterFieldsInPlace([
            migrations.AlterField(
                model_name='healthdeadline',
                name='charge_point',
                field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='chargepoints.chargepoint'),
            ),
            migrations.AlterField(
                model_name='healthflip',
                name='charge_point',
                field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='chargepoints.chargepoint'),
            ),
            migrations.AlterField(
                model_name='report',
                name='assigned_to',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assigned_reports', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AlterField(
                model_name='report',
                name='charge_point',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reports', to='chargepoints.chargepoint'),
            ),
            migrations.AlterField(
                model_name='report',
                name='reply_token',
                field=models.CharField(blank=True, editable=False, max_length=40, null=True),
            ),
            migrations.AlterField(
                model_name='report',
                name='reported_by',
                field=models.ForeignKey(blank=True, db_index=False, help_text='The back-office user who filed the report, if any.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AlterField(
                model_name='report',
                name='site',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reports', to='chargepoints.site'),
            ),
            migrations.AlterField(
                model_name='reportevent',
                name='actor',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AlterField(
                model_name='reportevent',
                name='report',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='reporting.report'),
            ),
            migrations.AlterField(
                model_name='reportevent',
                name='to_person',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
        ]),
        migrations.AddIndex(
            model_name='report',
            index=models.Index(condition=models.Q(('site__isnull', False)), fields=['site'], name='report_site_idx'),
        ),
        migrations.AddIndex(
            model_name='report',
            index=models.Index(condition=models.Q(('assigned_to__isnull', False)), fields=['assigned_to'], name='report_assigned_to_idx'),
        ),
        migrations.AddIndex(
            model_name='report',
            index=models.Index(condition=models.Q(('reported_by__isnull', False)), fields=['reported_by'], name='report_reported_by_idx'),
        ),
        migrations.AddIndex(
            model_name='reportevent',
            index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='reportevent_actor_idx'),
        ),
        migrations.AddIndex(
            model_name='reportevent',
            index=models.Index(condition=models.Q(('to_person__isnull', False)), fields=['to_person'], name='reportevent_to_person_idx'),
        ),
        migrations.AddConstraint(
            model_name='report',
            constraint=models.UniqueConstraint(condition=models.Q(('reply_token__isnull', False)), fields=('reply_token',), name='report_reply_token_unique'),
        ),
    ]
