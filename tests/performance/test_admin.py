"""The performance screens (performance/admin.py) in /admin/ and /operator/."""

import pytest

from accounts.models import AuditLog, Role
from performance.models import Exclusion
from performance.rollups import rollups_refresh
from tests.factories import ChargePointFactory, ReportFactory, TeamFactory

from .conftest import at, charge, make_charge_point, record, status

pytestmark = pytest.mark.django_db
APRIL_10 = at(0, day=39)


@pytest.fixture
def troubled(cp):
    """cp: port 1 down two hours on 2 March, one charge of two failed; an open report."""
    record(status(cp, at(10), "Faulted", 1, "GroundFailure"), status(cp, at(12), "Available", 1),
           charge(cp, at(13), 60, 10_000), charge(cp, at(15), 3, 0))
    rollups_refresh(now=APRIL_10)
    ReportFactory(charge_point=cp, created_at=at(10.5))
    return cp


def test_support_sees_a_charge_points_performance_page(client, support_user, troubled):
    client.force_login(support_user)

    page = client.get(f"/admin/chargepoints/chargepoint/{troubled.pk}/performance/?period=2026-03")

    assert page.status_code == 200
    html = page.content.decode()
    uptime = 100 * (2 * 31 * 1440 - 120) / (2 * 31 * 1440)
    assert f"{uptime:.2f} %" in html
    assert "50.0 %" in html  # one of two attempts
    assert "Error: GroundFailure" in html
    assert "No energy delivered" in html
    assert '<svg class="bo-chart"' in html
    assert "2026-03-02 10:00" in html  # the outage in the ledger, with the report filed during it
    assert "Charge point is not working" in html


def test_the_charge_point_page_has_a_performance_button(client, support_user, cp):
    client.force_login(support_user)
    html = client.get(f"/admin/chargepoints/chargepoint/{cp.pk}/change/").content.decode()
    assert f"/admin/chargepoints/chargepoint/{cp.pk}/performance/" in html


def test_an_operator_sees_only_their_own_charge_points(client, member_factory, troubled):
    outsider = member_factory(TeamFactory(), Role.ADMIN)
    client.force_login(outsider)
    assert client.get(f"/operator/chargepoints/chargepoint/{troubled.pk}/performance/").status_code == 404

    member = member_factory(troubled.owner, Role.VIEWER)
    client.force_login(member)
    page = client.get(f"/operator/chargepoints/chargepoint/{troubled.pk}/performance/?period=2026-03")
    assert page.status_code == 200
    assert "/operator/reporting/report/" in page.content.decode()


def test_a_bad_period_is_said_and_the_default_shown(client, support_user, cp):
    client.force_login(support_user)
    page = client.get(f"/admin/chargepoints/chargepoint/{cp.pk}/performance/?period=yesterday", follow=True)
    assert page.status_code == 200
    assert "Unknown period" in page.content.decode()


def test_the_site_page_lists_its_charge_points_worst_first(client, support_user, troubled):
    fine = make_charge_point(site=troubled.site, name="All good")
    client.force_login(support_user)

    page = client.get(f"/admin/chargepoints/site/{troubled.site_id}/performance/?period=2026-03")

    html = page.content.decode()
    assert page.status_code == 200
    assert html.index(troubled.name) < html.index(fine.name)


def test_the_team_dashboard_shows_the_worst_with_their_open_reports(client, member_factory, troubled):
    other_team_cp = ChargePointFactory()
    record(status(other_team_cp, at(1), "Faulted", 1), status(other_team_cp, at(20), "Available", 1))
    rollups_refresh(now=APRIL_10)
    client.force_login(member_factory(troubled.owner, Role.VIEWER))

    page = client.get("/operator/chargepoints/chargepoint/performance/?period=2026-03")

    html = page.content.decode()
    assert page.status_code == 200
    assert troubled.name in html and "1 open report" in html
    assert other_team_cp.name not in html


def test_the_quarterly_export_streams_a_row_per_port(client, support_user, troubled):
    client.force_login(support_user)

    response = client.get(f"/admin/chargepoints/chargepoint/performance/export/?period=2026-Q1&team={troubled.owner_id}")

    assert response.status_code == 200 and response.streaming
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 3
    assert lines[1].split(",")[3:6] == ["1", "2026-Q1", str(60 * 1440)]
    assert response["Content-Disposition"] == f'attachment; filename="uptime-{troubled.owner_id}-2026-Q1.csv"'


def test_an_admin_adds_and_removes_an_exclusion_in_the_operator_site(client, member_factory, troubled):
    client.force_login(member_factory(troubled.owner, Role.ADMIN))

    response = client.post("/operator/performance/exclusion/add/", {
        "charge_point": troubled.pk, "connector": 1, "starts_at_0": "2026-03-02", "starts_at_1": "10:00:00",
        "ends_at_0": "2026-03-02", "ends_at_1": "11:00:00", "reason": "vandalism", "evidence_text": "Police report",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    exclusion = Exclusion.objects.get()
    assert client.get(f"/operator/performance/exclusion/{exclusion.pk}/change/").status_code == 200

    response = client.post(f"/operator/performance/exclusion/{exclusion.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Exclusion.objects.exists()
    assert AuditLog.objects.filter(object_type="performance.exclusion").count() == 2


def test_a_viewer_cannot_add_an_exclusion(client, member_factory, troubled):
    client.force_login(member_factory(troubled.owner, Role.VIEWER))
    assert client.get("/operator/performance/exclusion/add/").status_code == 403


def test_an_installer_records_a_site_visit_on_a_report(client, member_factory, troubled):
    from performance.models import SiteVisit
    from reporting.models import Report

    report = Report.objects.get()
    client.force_login(member_factory(troubled.owner, Role.INSTALLER))

    response = client.post("/operator/performance/sitevisit/add/", {
        "report": report.pk, "visited_at_0": "2026-03-02", "visited_at_1": "15:00:00"})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert SiteVisit.objects.get().report == report
    assert report.events.filter(note__startswith="Site visit on 2026-03-02 15:00").exists()


def test_a_big_site_page_lists_the_lowest_uptimes_and_says_how_many_more(client, support_user, troubled,
                                                                          monkeypatch):
    monkeypatch.setattr("performance.pages.SITE_ROWS", 1)
    fine = make_charge_point(site=troubled.site, name="All good")
    client.force_login(support_user)

    html = client.get(f"/admin/chargepoints/site/{troubled.site_id}/performance/?period=2026-03").content.decode()

    assert troubled.name in html and fine.name not in html
    assert "1 more charge point, not listed" in html
