"""A report's teams on the report (``owner_team``, ``operator_team``: its
charge point's owner and operator; a site report's site team in both),
filled from the charge points and sites in one statement each, and the
indexes that make a team's lists and the unresolved lists index ranges.

On PostgreSQL the fill rewrites every report row (about 30 s per million
reports here) and the index builds lock writes to the table meanwhile: run
it in a quiet hour. Reversible: backwards drops the columns and indexes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FILL_POSTGRESQL = [
    """UPDATE reporting_report r SET owner_team_id = cp.owner_id, operator_team_id = cp.operator_id
       FROM chargepoints_chargepoint cp WHERE r.charge_point_id = cp.id""",
    """UPDATE reporting_report r SET owner_team_id = s.team_id, operator_team_id = s.team_id
       FROM chargepoints_site s WHERE r.charge_point_id IS NULL AND r.site_id = s.id""",
]
FILL_PORTABLE = [
    """UPDATE reporting_report SET
         owner_team_id = (SELECT owner_id FROM chargepoints_chargepoint cp WHERE cp.id = charge_point_id),
         operator_team_id = (SELECT operator_id FROM chargepoints_chargepoint cp WHERE cp.id = charge_point_id)
       WHERE charge_point_id IS NOT NULL""",
    """UPDATE reporting_report SET
         owner_team_id = (SELECT team_id FROM chargepoints_site s WHERE s.id = site_id),
         operator_team_id = (SELECT team_id FROM chargepoints_site s WHERE s.id = site_id)
       WHERE charge_point_id IS NULL AND site_id IS NOT NULL""",
]


def fill_teams(apps, schema_editor):
    statements = FILL_POSTGRESQL if schema_editor.connection.vendor == "postgresql" else FILL_PORTABLE
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0008_user_preferences_and_names'),
        ('chargepoints', '0007_translated_names'),
        ('reporting', '0023_seed_wording_and_names'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='report',
            name='operator_team',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.team', verbose_name='operator'),
        ),
        migrations.AddField(
            model_name='report',
            name='owner_team',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.team', verbose_name='team owner'),
        ),
        migrations.RunPython(fill_teams, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='report',
            index=models.Index(fields=['owner_team', '-created_at', '-id'], name='report_owner_team_idx'),
        ),
        migrations.AddIndex(
            model_name='report',
            index=models.Index(fields=['operator_team', '-created_at', '-id'], name='report_operator_team_idx'),
        ),
        migrations.AddIndex(
            model_name='report',
            index=models.Index(condition=models.Q(('state', 'resolved'), _negated=True), fields=['-created_at', '-id'], name='report_unresolved_idx'),
        ),
        migrations.AddIndex(
            model_name='report',
            index=models.Index(condition=models.Q(('state', 'resolved'), _negated=True), fields=['owner_team', '-created_at', '-id'], name='report_unres_owner_team_idx'),
        ),
        migrations.AddIndex(
            model_name='report',
            index=models.Index(condition=models.Q(('state', 'resolved'), _negated=True), fields=['operator_team', '-created_at', '-id'], name='report_unres_operator_team_idx'),
        ),
        migrations.AddIndex(
            model_name='report',
            index=models.Index(condition=models.Q(('state', 'resolved'), _negated=True), fields=['reason', '-created_at', '-id'], include=['assigned_party'], name='report_unres_reason_idx'),
        ),
        migrations.AddIndex(
            model_name='report',
            index=models.Index(condition=models.Q(('state', 'resolved'), _negated=True), fields=['assigned_party', '-created_at', '-id'], name='report_unres_party_idx'),
        ),
    ]
