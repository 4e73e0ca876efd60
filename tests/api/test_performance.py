"""/api/v1/ performance figures (performance/api/views.py): scoped, periods
checked, the same numbers as the screens."""

from datetime import timedelta

import pytest

from chargepoints.models import ChargePoint
from performance.rollups import rollups_refresh
from reporting.models import EventKind, ReportEvent, ReportState
from tests.factories import ReportFactory
from tests.performance.conftest import T0, at, charge, make_charge_point, record, status

pytestmark = pytest.mark.django_db
APRIL_10 = at(0, day=39)


@pytest.fixture
def troubled(world):
    ChargePoint.objects.filter(pk=world.cp.pk).update(created_at=T0 - timedelta(days=30))
    record(status(world.cp, at(10), "Faulted", 1, "GroundFailure"), status(world.cp, at(12), "Available", 1),
           charge(world.cp, at(13), 60, 10_000, connector=1), charge(world.cp, at(15), 3, 0, connector=1))
    rollups_refresh(now=APRIL_10)
    return world


def test_a_charge_points_figures(troubled):
    body = troubled.viewer.get(f"/api/v1/charge-points/{troubled.cp.pk}/performance/?period=2026-03").json()

    assert body["period"] == {"label": "2026-03", "first": "2026-03-01", "last": "2026-03-31"}
    assert body["ports"] == [{"connector": 1, "minutes": 44640.0, "outage_minutes": 120.0, "excluded_minutes": 0.0,
                              "uptime": pytest.approx(100 * (44640 - 120) / 44640), "attempts": 2, "successes": 1,
                              "success_rate": 50.0}]
    assert (body["attempts"], body["successes"], body["success_rate"]) == (2, 1, 50.0)
    assert body["outage_causes"][0]["cause"] == "error:GroundFailure"
    assert body["failure_causes"] == [{"cause": "no_energy", "label": "No energy delivered", "value": 1.0}]
    assert body["rating"] == {"average": None, "count": 0}


def test_another_teams_charge_point_site_and_team_are_not_found(troubled):
    assert troubled.their_client.get(f"/api/v1/charge-points/{troubled.cp.pk}/performance/").status_code == 404
    assert troubled.their_client.get(f"/api/v1/sites/{troubled.cp.site_id}/performance/").status_code == 404
    assert troubled.their_client.get(f"/api/v1/teams/{troubled.ours.pk}/performance/").status_code == 404
    assert troubled.their_client.get(f"/api/v1/teams/{troubled.ours.pk}/response-times/").status_code == 404


def test_a_bad_period_or_grouping_is_a_400(troubled):
    response = troubled.client.get(f"/api/v1/charge-points/{troubled.cp.pk}/performance/?period=2026-13")
    assert response.status_code == 400
    assert "Unknown period" in response.json()["fields"]["period"][0]
    response = troubled.client.get(f"/api/v1/teams/{troubled.ours.pk}/response-times/?by=colour")
    assert response.status_code == 400


def test_a_site_and_a_team(troubled):
    site = troubled.client.get(f"/api/v1/sites/{troubled.cp.site_id}/performance/?period=2026-03").json()
    assert [row["charge_point"] for row in site["charge_points"]] == [troubled.cp.pk]
    assert site["uptime"] == pytest.approx(100 * (44640 - 120) / 44640)

    ReportFactory(charge_point=troubled.cp)
    team = troubled.client.get(f"/api/v1/teams/{troubled.ours.pk}/performance/?period=2026-03").json()
    assert [(row["charge_point"], row["open_reports"]) for row in team["worst_uptime"]] == [(troubled.cp.pk, 1)]
    assert [row["success_rate"] for row in team["worst_success_rate"]] == [50.0]


def test_response_times(troubled):
    report = ReportFactory(charge_point=troubled.cp, created_at=at(8))
    ReportEvent.objects.create(report=report, kind=EventKind.COMMENT, actor_label="Ann",
                               created_at=at(9))
    ReportEvent.objects.create(report=report, kind=EventKind.REMOTE_COMMAND, actor_label="Ann", created_at=at(9.5))
    report.__class__.objects.filter(pk=report.pk).update(state=ReportState.RESOLVED, resolved_at=at(11))

    body = troubled.client.get(f"/api/v1/teams/{troubled.ours.pk}/response-times/?period=2026-03&by=site").json()

    assert body["rows"] == [{
        "key": str(troubled.cp.site_id), "label": troubled.cp.site.name, "reports": 1, "resolved": 1,
        "first_response_median_seconds": 3600.0, "first_response_p90_seconds": 3600.0,
        "resolution_median_seconds": 10800.0, "resolution_p90_seconds": 10800.0,
        "resolved_remotely_percent": 100.0}]


def test_response_times_count_the_teams_reports_as_they_are_after_a_move_with_its_site_reports(troubled):
    from chargepoints.assets import charge_point_update
    from reporting.catalogue import Reason, Source
    from tests.factories import SupportUserFactory

    ours, theirs = troubled.ours, troubled.theirs
    for charge_point in (troubled.cp, troubled.their_cp):
        ReportFactory(charge_point=charge_point, created_at=at(8))
        ReportFactory(charge_point=None, site=charge_point.site, source=Source.SYSTEM, reason=Reason.SITE_OFFLINE,
                      created_at=at(9))
    # Their charge point is operated by us from now on: its report is ours too.
    charge_point_update(charge_point=troubled.their_cp, operator=ours, by=SupportUserFactory())

    def rows(client, team):
        body = client.get(f"/api/v1/teams/{team.pk}/response-times/?period=2026-03&by=team").json()
        return sorted((row["key"], row["reports"]) for row in body["rows"])

    # Our charge point's, our site's, and the moved charge point's (by its operator, us).
    assert rows(troubled.client, ours) == [(str(ours.pk), 3)]
    # Theirs: the charge point they still own (operated by us) and their site's.
    assert rows(troubled.their_client, theirs) == sorted([(str(ours.pk), 1), (str(theirs.pk), 1)])


def test_the_endpoints_are_in_the_schema(anon):
    paths = anon.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"/api/v1/charge-points/{charge_point_id}/performance/", "/api/v1/sites/{site_id}/performance/",
            "/api/v1/teams/{team_id}/performance/", "/api/v1/teams/{team_id}/response-times/"} <= set(paths)


def test_a_big_site_lists_its_worst_charge_points_only(troubled, monkeypatch):
    monkeypatch.setattr("performance.pages.SITE_ROWS", 1)
    make_charge_point(site=troubled.cp.site, name="All good")

    site = troubled.client.get(f"/api/v1/sites/{troubled.cp.site_id}/performance/?period=2026-03").json()

    assert [row["charge_point"] for row in site["charge_points"]] == [troubled.cp.pk]
    assert site["charge_points_total"] == 2
    # Both charge points' ports in the totals, summed per connector number.
    assert site["port_count"] == 2 and [port["connector"] for port in site["ports"]] == [0, 1]
    assert site["minutes"] == 2 * 44640.0
