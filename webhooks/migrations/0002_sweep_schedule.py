"""Schedule the webhooks sweep (webhooks.sweep) every minute in
django-celery-beat, seeded once here as the other sweeps are: support
changes the schedule in /admin/ and a restart keeps their change."""

from django.db import migrations

from core.periodic_tasks import remove_periodic_task, seed_periodic_task

TASK_NAME = "Webhooks: send due deliveries"


def schedule(apps, schema_editor):
    seed_periodic_task(
        apps,
        name=TASK_NAME,
        task="webhooks.sweep",
        every=1,
        period="minutes",
        expire_seconds=60,
        description=(
            "Sends webhook deliveries whose task was lost, retries whose backoff is over and "
            "rows of a worker that died mid-send; e-mails teams whose endpoint was switched off."
        ),
    )


def unschedule(apps, schema_editor):
    remove_periodic_task(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_endpoints_and_deliveries"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
