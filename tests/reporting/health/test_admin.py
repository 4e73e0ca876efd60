"""reporting/admin/health.py: thresholds and schedules, support staff only."""

import pytest
from django_celery_beat.models import PeriodicTask

from accounts.models import Role
from reporting.models import HealthCheckSettings
from tests.factories import HealthCheckSettingsFactory

pytestmark = pytest.mark.django_db


def test_support_overrides_a_teams_thresholds(client, support_user, team):
    client.force_login(support_user)

    response = client.post(
        "/admin/reporting/healthchecksettings/add/",
        {"team": team.pk, "auto_resolve": "false", "disconnected_minutes": "5", "bad_wifi_enabled": "false",
         "bad_wifi_dbm": "-75"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    saved = HealthCheckSettings.objects.get(team=team)
    assert (saved.auto_resolve, saved.disconnected_minutes, saved.bad_wifi_enabled, saved.bad_wifi_dbm) == (
        False, 5, False, -75)
    assert saved.in_error_minutes is None  # empty: the default


def test_an_impossible_threshold_is_refused(client, support_user, team):
    client.force_login(support_user)

    response = client.post("/admin/reporting/healthchecksettings/add/", {"team": team.pk, "bad_wifi_dbm": "20"})

    assert response.status_code == 200
    assert not HealthCheckSettings.objects.exists()


def test_the_list_shows_each_teams_overrides(client, support_user):
    HealthCheckSettingsFactory(failed_charges_count=5)
    client.force_login(support_user)

    response = client.get("/admin/reporting/healthchecksettings/")

    assert response.status_code == 200
    assert "charge point had 3 failed charges last 1 hour: count 5" in response.content.decode()


def test_support_changes_the_sweep_schedule(client, support_user):
    client.force_login(support_user)
    periodic = PeriodicTask.objects.get(task="reporting.health_sweep")

    response = client.get(f"/admin/django_celery_beat/periodictask/{periodic.pk}/change/")

    assert response.status_code == 200


def test_operators_see_neither(client, member_factory, team):
    admin = member_factory(team, Role.OWNER)
    HealthCheckSettingsFactory(team=team)
    client.force_login(admin)

    assert client.get("/operator/reporting/healthchecksettings/").status_code == 404
    assert client.get("/operator/django_celery_beat/periodictask/").status_code == 404
    assert client.get("/admin/reporting/healthchecksettings/").status_code == 302  # to the login page
