"""Schedule the outbox sweep (notifications.send_due) every minute in
django-celery-beat, so a fresh database sends lost and retried e-mails
without anyone configuring beat by hand."""

from django.db import migrations

TASK_NAME = "Notifications: send due e-mails"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute = IntervalSchedule.objects.filter(every=1, period="minutes").order_by("id").first()
    if every_minute is None:
        every_minute = IntervalSchedule.objects.create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "notifications.send_due",
            "interval": every_minute,
            "enabled": True,
            # A sweep that waited longer than a minute is superseded by the next.
            "expire_seconds": 60,
            "description": "Sends notification e-mails whose task was lost, retries after "
            "provider errors, and rows whose worker died mid-send.",
        },
    )


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
