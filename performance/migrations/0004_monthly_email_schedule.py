"""Schedule the monthly performance e-mail (performance.monthly_emails) at
06:00 UTC on the 1st of each month in django-celery-beat, seeded once."""

from django.db import migrations

from core.periodic_tasks import remove_periodic_task, seed_periodic_task

TASK_NAME = "Performance: monthly e-mail"


def schedule(apps, schema_editor):
    seed_periodic_task(
        apps,
        name=TASK_NAME,
        task="performance.monthly_emails",
        crontab={"minute": "0", "hour": "6", "day_of_month": "1"},
        description="E-mails last month's performance figures to every team's report contacts "
        "(teams with e-mail updates on), once per team and month.",
    )


def unschedule(apps, schema_editor):
    remove_periodic_task(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("performance", "0003_monthly_email"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
