"""reporting/admin/maintenance.py: windows on /admin/ (support, any team) and
/operator/ (a team's admins, their own team's)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog, Role
from reporting.maintenance import maintenance_window_create
from reporting.models import MaintenanceWindow, SilencedDetection
from tests.factories import ChargePointFactory, TeamFactory

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0, second=0) + timedelta(hours=1)


def form(team, **overrides):
    return {"team": team.pk, "reason": "New cables", "starts_at_0": f"{START:%Y-%m-%d}",
            "starts_at_1": f"{START:%H:%M:%S}", "ends_at_0": f"{START + timedelta(hours=3):%Y-%m-%d}",
            "ends_at_1": f"{START + timedelta(hours=3):%H:%M:%S}", "time_zone": "UTC",
            "silenced-TOTAL_FORMS": "0", "silenced-INITIAL_FORMS": "0", **overrides}


def test_support_creates_a_window_for_any_team(client, support_user, team):
    client.force_login(support_user)
    response = client.post("/admin/reporting/maintenancewindow/add/", form(team))
    assert response.status_code == 302, response.content.decode()[:3000]
    window = MaintenanceWindow.objects.get()
    assert (window.team, window.created_by) == (team, support_user)
    assert AuditLog.objects.filter(object_type="reporting.maintenancewindow", actor=support_user).exists()


def test_an_end_before_the_start_is_shown_on_the_field(client, support_user, team):
    client.force_login(support_user)
    response = client.post("/admin/reporting/maintenancewindow/add/",
                           form(team, ends_at_0=f"{START - timedelta(days=1):%Y-%m-%d}"))
    assert response.status_code == 200
    assert "The end must be after the start." in response.content.decode()
    assert not MaintenanceWindow.objects.exists()


def test_a_team_admin_manages_the_teams_windows_on_operator(client, member_factory):
    cp = ChargePointFactory()
    admin = member_factory(cp.owner, Role.ADMIN)
    client.force_login(admin)
    response = client.post("/operator/reporting/maintenancewindow/add/",
                           form(cp.owner, charge_point=cp.pk))
    assert response.status_code == 302, response.content.decode()[:3000]
    window = MaintenanceWindow.objects.get()
    assert window.charge_point == cp

    others = maintenance_window_create(by=None, team=TeamFactory(), reason="Not yours", starts_at=START,
                                       ends_at=START + timedelta(hours=1))
    listing = client.get("/operator/reporting/maintenancewindow/").content.decode()
    assert "New cables" in listing and "Not yours" not in listing
    assert client.get(f"/operator/reporting/maintenancewindow/{others.pk}/change/").status_code in (302, 404)


def test_a_viewer_sees_but_cannot_add(client, member_factory, team):
    viewer = member_factory(team, Role.VIEWER)
    client.force_login(viewer)
    assert client.get("/operator/reporting/maintenancewindow/").status_code == 200
    assert client.get("/operator/reporting/maintenancewindow/add/").status_code == 403


def test_the_windows_page_shows_what_would_have_been_filed(client, support_user):
    cp = ChargePointFactory(name="Harbour 7")
    window = maintenance_window_create(by=None, team=cp.owner, charge_point=cp, reason="Works",
                                       starts_at=START, ends_at=START + timedelta(hours=1))
    SilencedDetection.objects.create(window=window, charge_point=cp, reason="in_error", first_seen_at=START,
                                     last_seen_at=START, detections=4)
    client.force_login(support_user)

    page = client.get(f"/admin/reporting/maintenancewindow/{window.pk}/change/").content.decode()

    assert "would have filed" in page.lower() and "Harbour 7" in page and "Charge point in error for a while" in page


def test_delete_goes_through_the_service(client, support_user, team):
    window = maintenance_window_create(by=None, team=team, reason="Works", starts_at=START,
                                       ends_at=START + timedelta(hours=1))
    client.force_login(support_user)
    response = client.post(f"/admin/reporting/maintenancewindow/{window.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not MaintenanceWindow.objects.exists()
    assert AuditLog.objects.filter(object_type="reporting.maintenancewindow", action="delete").exists()
