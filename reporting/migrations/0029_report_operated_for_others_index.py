"""A team's reports as the operator of another team's charge points, newest
first, all and the unresolved ones: the operator range of the team-scoped
lists (``reporting.team_ranges``), which would otherwise walk every report
of the charge points a team both owns and operates to find none.

On PostgreSQL each build reads the reports table once and locks writes to
it meanwhile (a few seconds for 10 million reports here; the indexes hold
only those reports): run it in a quiet hour. Reversible: backwards drops
them."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0028_occurrences_count_episodes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='report',
            index=models.Index(condition=models.Q(('owner_team_id', models.F('operator_team_id')), _negated=True),
                               fields=['operator_team', '-created_at', '-id'], name='report_op_for_others_idx'),
        ),
        migrations.AddIndex(
            model_name='report',
            index=models.Index(condition=models.Q(models.Q(('state', 'resolved'), _negated=True),
                                                  models.Q(('owner_team_id', models.F('operator_team_id')),
                                                           _negated=True)),
                               fields=['operator_team', '-created_at', '-id'], name='report_unres_op_for_others_idx'),
        ),
    ]
