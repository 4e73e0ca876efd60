"""Every team has its report settings row from now on (team_create makes it);
give the teams created before this release theirs, with the defaults, so no
page has to create rows when it is read."""

from django.db import migrations


def create_missing(apps, schema_editor):
    Team = apps.get_model("accounts", "Team")
    ReportSettings = apps.get_model("reporting", "ReportSettings")
    missing = Team.objects.exclude(pk__in=ReportSettings.objects.values("team_id")).values_list("pk", flat=True)
    ReportSettings.objects.bulk_create(
        [ReportSettings(team_id=team_id) for team_id in missing.iterator()], batch_size=1000, ignore_conflicts=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_api_key"),
        ("reporting", "0006_event_processed_at"),
    ]

    operations = [migrations.RunPython(create_missing, migrations.RunPython.noop)]
