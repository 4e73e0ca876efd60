"""The reports list's "My team's" view (``reporting.admin.filters.my_team_q``):
an index of the unresolved reports by the team they wait on
(``reporting.querysets.waiting_team``: the operator team when assigned to the
operator, the owner team when assigned to the owner), newest first.

On PostgreSQL the build reads the reports table once and locks writes to it
meanwhile (about 10 s for 10 million reports here): run it in a quiet hour.
Reversible: backwards drops it."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0025_dashboard_tallies'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='report',
            index=models.Index(
                models.Case(models.When(assigned_party='operator', then=models.F('operator_team')), models.When(assigned_party='owner', then=models.F('owner_team')), default=None, output_field=models.IntegerField()),
                models.OrderBy(models.F('created_at'), descending=True), models.OrderBy(models.F('id'), descending=True),
                condition=models.Q(('state', 'resolved'), _negated=True), name='report_unres_waiting_idx'),
        ),
    ]
