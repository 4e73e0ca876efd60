"""``occurrences`` on a system report now counts episodes (the condition
cleared and came back while the report stayed open), no longer every minute
the sweep saw the problem. Existing counts become 1 plus the report's
"problem is back" timeline entries; a flapping report already counted
episodes and keeps its count. One UPDATE over the system reports counted
more than once (about a minute per million on PostgreSQL). Also schedules
the hourly reconciliation of the incremental health engine."""

from django.db import migrations
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from core.periodic_tasks import remove_periodic_task, seed_periodic_task

TASK_NAME = "Health checks: hourly reconciliation"


def occurrences_as_episodes(apps, schema_editor):
    Report = apps.get_model("reporting", "Report")
    ReportEvent = apps.get_model("reporting", "ReportEvent")
    recurrences = (
        ReportEvent.objects.filter(report_id=OuterRef("pk"), kind="recurred")
        .order_by().values("report_id").annotate(n=Count("id")).values("n")
    )
    Report.objects.filter(source="system", flapping=False, occurrences__gt=1).update(
        occurrences=Value(1) + Coalesce(Subquery(recurrences, output_field=IntegerField()), Value(0))
    )


def schedule(apps, schema_editor):
    seed_periodic_task(
        apps,
        name=TASK_NAME,
        task="reporting.health_reconcile",
        every=60,
        description=(
            "Runs every health check over the whole fleet, compares the result with the incremental "
            "engine's state, logs and counts any difference and repairs it (docs/health-checks.md)."
        ),
    )


def unschedule(apps, schema_editor):
    remove_periodic_task(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0027_health_engine"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(occurrences_as_episodes, migrations.RunPython.noop),
        migrations.RunPython(schedule, unschedule),
    ]
