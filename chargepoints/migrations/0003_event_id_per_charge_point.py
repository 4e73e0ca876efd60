"""Telemetry event ids are unique per charge point, not across every team:
the per-charge-point constraints come first, then the global unique indexes
(and their text-pattern copies on PostgreSQL) go."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chargepoints', '0002_telemetry'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='charge',
            constraint=models.UniqueConstraint(fields=('charge_point', 'event_id'), name='charge_cp_event_id_uniq'),
        ),
        migrations.AddConstraint(
            model_name='heartbeat',
            constraint=models.UniqueConstraint(fields=('charge_point', 'event_id'), name='heartbeat_cp_event_id_uniq'),
        ),
        migrations.AddConstraint(
            model_name='signalreading',
            constraint=models.UniqueConstraint(fields=('charge_point', 'event_id'), name='signalreading_cp_event_id_uniq'),
        ),
        migrations.AddConstraint(
            model_name='statechange',
            constraint=models.UniqueConstraint(fields=('charge_point', 'event_id'), name='statechange_cp_event_id_uniq'),
        ),
        migrations.AlterField(
            model_name='charge',
            name='event_id',
            field=models.CharField(max_length=100),
        ),
        migrations.AlterField(
            model_name='heartbeat',
            name='event_id',
            field=models.CharField(max_length=100),
        ),
        migrations.AlterField(
            model_name='signalreading',
            name='event_id',
            field=models.CharField(max_length=100),
        ),
        migrations.AlterField(
            model_name='statechange',
            name='event_id',
            field=models.CharField(max_length=100),
        ),
    ]
