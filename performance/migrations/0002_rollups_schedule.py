"""Schedule the rollup refresh (performance.rollups_refresh) every five
minutes in django-celery-beat, seeded once like the health sweep."""

from django.db import migrations

from core.periodic_tasks import remove_periodic_task, seed_periodic_task

TASK_NAME = "Performance: refresh the daily rollups"


def schedule(apps, schema_editor):
    seed_periodic_task(
        apps,
        name=TASK_NAME,
        task="performance.rollups_refresh",
        every=5,
        period="minutes",
        expire_seconds=300,
        description=(
            "Recomputes the uptime and charging rollups of the charge point days whose telemetry, "
            "exclusions or maintenance windows changed, and of the days that ended since."
        ),
    )


def unschedule(apps, schema_editor):
    remove_periodic_task(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("performance", "0001_outages_and_rollups"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
