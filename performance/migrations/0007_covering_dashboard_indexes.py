"""The dashboard's two rollup indexes become covering (INCLUDE the summed
columns): at a million charge points the worst-20 queries read the index
alone instead of a heap page per row. Plain (locking) index builds: a few
seconds per million rows."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('performance', '0006_port_charges'),
    ]

    operations = [
        # The covering indexes first, so the dashboard never runs without one.
        migrations.AddIndex(
            model_name='chargepointday',
            index=models.Index(condition=models.Q(('failed__gt', 0)), fields=['day', 'charge_point'], include=('failed',), name='perf_cpday_failed_cov_idx'),
        ),
        migrations.AddIndex(
            model_name='portday',
            index=models.Index(fields=['day', 'charge_point'], include=('outage_seconds', 'excluded_seconds'), name='perf_portday_day_cov_idx'),
        ),
        migrations.RemoveIndex(
            model_name='chargepointday',
            name='perf_cpday_failed_idx',
        ),
        migrations.RemoveIndex(
            model_name='portday',
            name='perf_portday_day_idx',
        ),
    ]
