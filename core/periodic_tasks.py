"""Seeding django-celery-beat's schedule from migrations, so a fresh
database runs its periodic work without anyone configuring beat by hand.
Support may change a seeded task afterwards in /admin/: seeding never
overwrites an existing task of the same name.

Migrations call these with their historical ``apps``; keep the behaviour
stable, since applied migrations do not run again but new databases do.
"""

from __future__ import annotations


def seed_periodic_task(
    apps,
    *,
    name: str,
    task: str,
    description: str,
    every: int | None = None,
    period: str = "minutes",
    crontab: dict | None = None,
    expire_seconds: int | None = None,
) -> None:
    """``every``/``period`` (an interval, e.g. 15 "seconds") or ``crontab``
    (minute, hour, ... as django-celery-beat's CrontabSchedule fields)."""
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    schedule = {}
    if crontab is not None:
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        fields = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*",
                  **crontab}
        schedule["crontab"] = (
            CrontabSchedule.objects.filter(**fields).order_by("id").first() or CrontabSchedule.objects.create(**fields)
        )
    else:
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        schedule["interval"] = (
            IntervalSchedule.objects.filter(every=every, period=period).order_by("id").first()
            or IntervalSchedule.objects.create(every=every, period=period)
        )
    PeriodicTask.objects.get_or_create(
        name=name,
        defaults={"task": task, "enabled": True, "expire_seconds": expire_seconds, "description": description,
                  **schedule},
    )


def remove_periodic_task(apps, *, name: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()
