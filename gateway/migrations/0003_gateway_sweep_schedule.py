"""Schedule the gateway sweep (gateway.sweep: remote command timeouts, dead
gateway processes, self-healing resets) every 15 seconds in
django-celery-beat, seeded once here like the health sweep."""

from django.db import migrations

from core.periodic_tasks import remove_periodic_task, seed_periodic_task

TASK_NAME = "OCPP gateway: sweep"


def schedule(apps, schema_editor):
    seed_periodic_task(
        apps,
        name=TASK_NAME,
        task="gateway.sweep",
        every=15,
        period="seconds",
        expire_seconds=15,
        description=(
            "Times out remote commands nobody answered, marks the chargers of crashed gateway "
            "processes disconnected, and sends the self-healing soft resets."
        ),
    )


def unschedule(apps, schema_editor):
    remove_periodic_task(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("gateway", "0002_remote_commands"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
