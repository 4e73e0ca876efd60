"""Schedule the health-check sweep (reporting.health_sweep) every minute in
django-celery-beat. It is seeded once, here, rather than in code at start-up:
support changes the schedule in /admin/ and a restart keeps their change."""

from django.db import migrations

from core.periodic_tasks import remove_periodic_task, seed_periodic_task

TASK_NAME = "Health checks: sweep"


def schedule(apps, schema_editor):
    seed_periodic_task(
        apps,
        name=TASK_NAME,
        task="reporting.health_sweep",
        every=1,
        period="minutes",
        expire_seconds=60,
        description=(
            "Runs the five health checks over the fleet: files a system report "
            "once per problem and resolves it when the problem is gone."
        ),
    )


def unschedule(apps, schema_editor):
    remove_periodic_task(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0002_health_checks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
