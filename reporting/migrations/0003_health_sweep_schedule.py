"""Schedule the health-check sweep (reporting.health_sweep) every minute in
django-celery-beat. It is seeded once, here, rather than in code at start-up:
support changes the schedule in /admin/ and a restart keeps their change."""

from django.db import migrations

TASK_NAME = "Health checks: sweep"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute = IntervalSchedule.objects.filter(every=1, period="minutes").order_by("id").first()
    if every_minute is None:
        every_minute = IntervalSchedule.objects.create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "reporting.health_sweep",
            "interval": every_minute,
            "enabled": True,
            # A sweep still queued after a minute is superseded by the next one.
            "expire_seconds": 60,
            "description": "Runs the five health checks over the fleet: files a system report "
            "once per problem and resolves it when the problem is gone.",
        },
    )


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0002_health_checks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
