"""Schedule the retention run (privacy.erase_expired_personal_data) daily at
03:30 in django-celery-beat, so a fresh database erases expired personal
data without anyone configuring beat by hand."""

from django.db import migrations

from core.periodic_tasks import remove_periodic_task, seed_periodic_task

TASK_NAME = "Personal data: erase what is past its retention"


def schedule(apps, schema_editor):
    seed_periodic_task(
        apps,
        name=TASK_NAME,
        task="privacy.erase_expired_personal_data",
        crontab={"minute": "30", "hour": "3"},
        description=(
            "Erases drivers' contact details, photos and support conversations "
            "whose retention period has ended (docs/privacy.md)."
        ),
    )


def unschedule(apps, schema_editor):
    remove_periodic_task(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
