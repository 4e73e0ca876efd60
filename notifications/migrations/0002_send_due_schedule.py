"""Schedule the outbox sweep (notifications.send_due) every minute in
django-celery-beat, so a fresh database sends lost and retried e-mails
without anyone configuring beat by hand."""

from django.db import migrations

from core.periodic_tasks import remove_periodic_task, seed_periodic_task

TASK_NAME = "Notifications: send due e-mails"


def schedule(apps, schema_editor):
    seed_periodic_task(
        apps,
        name=TASK_NAME,
        task="notifications.send_due",
        every=1,
        period="minutes",
        expire_seconds=60,
        description=(
            "Sends notification e-mails whose task was lost, retries after "
            "provider errors, and rows whose worker died mid-send."
        ),
    )


def unschedule(apps, schema_editor):
    remove_periodic_task(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
