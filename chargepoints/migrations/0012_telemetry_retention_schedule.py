"""Schedule the telemetry retention run (chargepoints.telemetry_retention)
daily at 02:15 in django-celery-beat: partitions for the coming days are
created ahead and those past retention dropped without anyone configuring
beat by hand. TELEMETRY_PARTITIONS_AHEAD_DAYS (7) leaves a week of missed
runs before rows fall into the default partition."""

from django.db import migrations

from core.periodic_tasks import remove_periodic_task, seed_periodic_task

TASK_NAME = "Telemetry: create partitions ahead, drop what is past retention"


def schedule(apps, schema_editor):
    seed_periodic_task(
        apps,
        name=TASK_NAME,
        task="chargepoints.telemetry_retention",
        crontab={"minute": "15", "hour": "2"},
        description=(
            "Creates the coming days' telemetry partitions (PostgreSQL) and drops or deletes "
            "heartbeats, signal readings, state changes and charges past their retention "
            "(docs/operations.md, Telemetry retention)."
        ),
    )


def unschedule(apps, schema_editor):
    remove_periodic_task(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("chargepoints", "0011_telemetry_partitions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
