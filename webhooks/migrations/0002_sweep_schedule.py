"""Schedule the webhooks sweep (webhooks.sweep) every minute in
django-celery-beat, seeded once here as the other sweeps are: support
changes the schedule in /admin/ and a restart keeps their change."""

from django.db import migrations

TASK_NAME = "Webhooks: send due deliveries"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute = IntervalSchedule.objects.filter(every=1, period="minutes").order_by("id").first()
    if every_minute is None:
        every_minute = IntervalSchedule.objects.create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "webhooks.sweep",
            "interval": every_minute,
            "enabled": True,
            "expire_seconds": 60,
            "description": "Sends webhook deliveries whose task was lost, retries whose backoff is over and "
            "rows of a worker that died mid-send; e-mails teams whose endpoint was switched off.",
        },
    )


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_endpoints_and_deliveries"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
