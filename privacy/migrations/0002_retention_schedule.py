"""Schedule the retention run (privacy.erase_expired_personal_data) daily at
03:30 in django-celery-beat, so a fresh database erases expired personal
data without anyone configuring beat by hand."""

from django.db import migrations

TASK_NAME = "Personal data: erase what is past its retention"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly = CrontabSchedule.objects.filter(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*"
    ).order_by("id").first()
    if nightly is None:
        nightly = CrontabSchedule.objects.create(
            minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*"
        )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "privacy.erase_expired_personal_data",
            "crontab": nightly,
            "interval": None,
            "enabled": True,
            "description": "Erases drivers' contact details, photos and support conversations "
            "whose retention period has ended (docs/privacy.md).",
        },
    )


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
