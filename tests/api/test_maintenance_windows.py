from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from reporting.models import MaintenanceWindow, SilencedDetection
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

START = (timezone.now() + timedelta(days=1)).replace(microsecond=0)


def body(**overrides):
    return {"reason": "Grid works", "starts_at": START.isoformat(),
            "ends_at": (START + timedelta(hours=2)).isoformat(), **overrides}


def test_an_admin_key_creates_a_window_for_a_charge_point_and_it_is_audited(world):
    response = world.client.post("/api/v1/maintenance-windows/",
                                 body(team=world.ours.pk, charge_point=world.cp.pk), format="json")
    assert response.status_code == 201, response.json()
    window = MaintenanceWindow.objects.get(pk=response.json()["id"])
    assert (window.team, window.charge_point, window.reason) == (world.ours, world.cp, "Grid works")
    assert AuditLog.objects.filter(object_type="reporting.maintenancewindow", action="create").exists()
    assert response.json()["would_have_filed"] == []


def test_a_weekly_window_takes_weekdays_as_a_list(world):
    response = world.client.post("/api/v1/maintenance-windows/", body(
        team=world.ours.pk, ends_at=None, weekdays=[5, 0], local_start="02:00", duration_minutes=120,
        time_zone="Europe/Copenhagen"), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["weekdays"] == [0, 5]
    assert MaintenanceWindow.objects.get().weekdays == "0,5"


@pytest.mark.parametrize("overrides, field", [
    ({"ends_at": (START - timedelta(minutes=1)).isoformat()}, "ends_at"),
    ({"ends_at": None}, "ends_at"),
    ({"weekdays": [1], "ends_at": None}, "local_start"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
])
def test_bad_windows_are_clear_400s(world, overrides, field):
    response = world.client.post("/api/v1/maintenance-windows/", body(team=world.ours.pk, **overrides),
                                 format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not MaintenanceWindow.objects.exists()


def test_a_target_of_another_team_is_refused(world):
    response = world.client.post("/api/v1/maintenance-windows/",
                                 body(team=world.ours.pk, charge_point=world.their_cp.pk), format="json")
    assert response.status_code == 400
    assert "charge_point" in response.json()["fields"]
    other_site = SiteFactory(team=world.theirs)
    response = world.client.post("/api/v1/maintenance-windows/",
                                 body(team=world.ours.pk, site=other_site.pk), format="json")
    assert response.status_code == 400
    assert not MaintenanceWindow.objects.exists()


def test_a_viewer_sees_windows_but_cannot_create_and_other_teams_see_none(world):
    world.client.post("/api/v1/maintenance-windows/", body(team=world.ours.pk), format="json")
    assert len(world.viewer.get("/api/v1/maintenance-windows/").json()["results"]) == 1
    assert world.their_client.get("/api/v1/maintenance-windows/").json()["results"] == []
    response = world.viewer.post("/api/v1/maintenance-windows/", body(team=world.ours.pk), format="json")
    assert response.status_code == 400 and "team" in response.json()["fields"]


def test_change_and_delete(world):
    window_id = world.client.post("/api/v1/maintenance-windows/", body(team=world.ours.pk),
                                  format="json").json()["id"]
    response = world.client.patch(f"/api/v1/maintenance-windows/{window_id}/", {"reason": "Longer works"},
                                  format="json")
    assert response.status_code == 200 and response.json()["reason"] == "Longer works"
    response = world.client.patch(f"/api/v1/maintenance-windows/{window_id}/",
                                  {"ends_at": START.isoformat()}, format="json")
    assert response.status_code == 400
    assert MaintenanceWindow.objects.get().ends_at == START + timedelta(hours=2)
    assert world.their_client.delete(f"/api/v1/maintenance-windows/{window_id}/").status_code == 404
    assert world.client.delete(f"/api/v1/maintenance-windows/{window_id}/").status_code == 204
    assert not MaintenanceWindow.objects.exists()


def test_the_window_lists_what_would_have_been_filed(world):
    window_id = world.client.post("/api/v1/maintenance-windows/", body(team=world.ours.pk),
                                  format="json").json()["id"]
    SilencedDetection.objects.create(window_id=window_id, charge_point=world.cp, reason="disconnected",
                                     first_seen_at=START, last_seen_at=START, detections=3)
    rows = world.client.get(f"/api/v1/maintenance-windows/{window_id}/").json()["would_have_filed"]
    assert [(r["charge_point"], r["reason"], r["detections"]) for r in rows] == [
        (world.cp.pk, "disconnected", 3)]
