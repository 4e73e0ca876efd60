"""Schedule the gateway sweep (gateway.sweep: remote command timeouts, dead
gateway processes, self-healing resets) every 15 seconds in
django-celery-beat, seeded once here like the health sweep."""

from django.db import migrations

TASK_NAME = "OCPP gateway: sweep"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every = IntervalSchedule.objects.filter(every=15, period="seconds").order_by("id").first()
    if every is None:
        every = IntervalSchedule.objects.create(every=15, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "gateway.sweep",
            "interval": every,
            "enabled": True,
            "expire_seconds": 15,
            "description": "Times out remote commands nobody answered, marks the chargers of crashed gateway "
            "processes disconnected, and sends the self-healing soft resets.",
        },
    )


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("gateway", "0002_remote_commands"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
