"""/api/v1/performance/exclusions/ and /api/v1/performance/site-visits/
(performance/api/writes.py): written through the services the admin uses,
scoped, audited, and bad input is a 400 that says what is wrong."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from performance.models import DirtyDay, Exclusion, SiteVisit
from reporting.catalogue import Reason, Source
from reporting.models import EventKind
from tests.factories import ReportFactory
from tests.performance.conftest import record, status

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)
URL = "/api/v1/performance/exclusions/"
VISITS = "/api/v1/performance/site-visits/"


def body(world, **overrides):
    data = {"charge_point": world.cp.pk, "connector": 1, "starts_at": (NOW - timedelta(hours=5)).isoformat(),
            "ends_at": (NOW - timedelta(hours=2)).isoformat(), "reason": "utility_outage",
            "evidence_text": "Grid operator notice 2026-0312."}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not ...}


@pytest.fixture
def ported(world):
    record(status(world.cp, NOW - timedelta(days=1), "Available", 1))
    return world


def test_an_admin_excludes_outage_time_audited_and_the_days_marked(ported):
    response = ported.client.post(URL, body(ported), format="json")

    assert response.status_code == 201, response.json()
    exclusion = Exclusion.objects.get()
    assert response.json()["id"] == exclusion.pk
    assert (exclusion.charge_point_id, exclusion.connector, exclusion.reason) == (ported.cp.pk, 1, "utility_outage")
    assert exclusion.evidence_text == "Grid operator notice 2026-0312."
    assert response.json()["evidence_file"] is False
    log = AuditLog.objects.get(object_type="performance.exclusion", action="create")
    assert log.api_key_id == ported.key.pk and log.team_id == ported.cp.owner_id
    assert DirtyDay.objects.filter(charge_point=ported.cp).exists()
    assert ported.client.get(URL).json()["results"][0]["id"] == exclusion.pk
    assert ported.their_client.get(URL).json()["results"] == []


def test_every_port_when_the_connector_is_left_out(ported):
    response = ported.client.post(URL, body(ported, connector=...), format="json")
    assert response.status_code == 201
    assert Exclusion.objects.get().connector is None


@pytest.mark.parametrize(("overrides", "field", "says"), [
    ({"reason": "bad_weather"}, "reason", "is not a valid choice"),
    ({"ends_at": (NOW - timedelta(hours=6)).isoformat()}, "ends_at", "The end must be after the start."),
    ({"evidence_text": "   "}, "evidence_text", "may not be blank"),
    ({"evidence_text": ...}, "evidence_text", "required"),
    ({"connector": 7}, "connector", "The charge point has no connector 7."),
    ({"connector": "one"}, "connector", "A valid integer is required."),
    ({"charge_point": "1"}, "charge_point", "Incorrect type"),
    ({"starts_at": "yesterday"}, "starts_at", "Datetime has wrong format"),
])
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(ported, overrides, field, says):
    response = ported.client.post(URL, body(ported, **overrides), format="json")

    assert response.status_code == 400
    assert says in " ".join(response.json()["fields"][field])
    assert not Exclusion.objects.exists()
    assert not AuditLog.objects.filter(object_type="performance.exclusion").exists()


def test_another_teams_charge_point_is_a_400_and_a_viewer_is_refused(ported):
    response = ported.client.post(URL, body(ported, charge_point=ported.their_cp.pk), format="json")
    assert response.status_code == 400
    assert "charge_point" in response.json()["fields"]

    response = ported.viewer.post(URL, body(ported), format="json")
    assert response.status_code == 403
    assert not Exclusion.objects.exists()


def test_removing_an_exclusion_is_audited_and_only_for_its_teams(ported):
    exclusion_id = ported.client.post(URL, body(ported), format="json").json()["id"]

    assert ported.their_client.delete(f"{URL}{exclusion_id}/").status_code == 404
    assert ported.viewer.delete(f"{URL}{exclusion_id}/").status_code == 403
    assert ported.client.delete(f"{URL}{exclusion_id}/").status_code == 204

    assert not Exclusion.objects.exists()
    assert AuditLog.objects.filter(object_type="performance.exclusion", action="delete").count() == 1


def test_a_site_visit_is_noted_on_the_timeline_and_audited(world):
    report = ReportFactory(charge_point=world.cp)
    visited = NOW - timedelta(hours=1)

    response = world.client.post(VISITS, {"report": report.pk, "visited_at": visited.isoformat(),
                                          "note": "Replaced the RCD."}, format="json")

    assert response.status_code == 201, response.json()
    visit = SiteVisit.objects.get()
    assert (visit.report_id, visit.visited_at) == (report.pk, visited)
    note = report.events.filter(kind=EventKind.COMMENT).get()
    assert "Replaced the RCD." in note.note and "Site visit on" in note.note
    assert AuditLog.objects.filter(object_type="performance.sitevisit", action="create",
                                   team_id=world.cp.owner_id).exists()
    assert [row["id"] for row in world.client.get(VISITS).json()["results"]] == [visit.pk]
    assert world.their_client.get(VISITS).json()["results"] == []


def test_a_site_visit_for_a_site_report_needs_the_sites_team(world):
    report = ReportFactory(charge_point=None, site=world.cp.site, source=Source.SYSTEM, reason=Reason.SITE_OFFLINE)
    assert world.client.post(VISITS, {"report": report.pk}, format="json").status_code == 201
    assert world.their_client.post(VISITS, {"report": report.pk}, format="json").status_code == 400
    assert SiteVisit.objects.count() == 1


@pytest.mark.parametrize(("data", "field", "says"), [
    ({"visited_at": (NOW + timedelta(hours=2)).isoformat()}, "visited_at", "cannot be in the future"),
    ({"report": 999_999}, "report", "does not exist"),
    ({"report": None}, "report", "may not be null"),
    ({"note": 5}, "note", "Not a valid string."),
])
def test_bad_site_visits_are_a_400(world, data, field, says):
    report = ReportFactory(charge_point=world.cp)
    response = world.client.post(VISITS, {"report": report.pk, **data}, format="json")

    assert response.status_code == 400
    assert says in " ".join(response.json()["fields"][field])
    assert not SiteVisit.objects.exists()


def test_a_viewer_may_not_record_a_site_visit(world):
    report = ReportFactory(charge_point=world.cp)
    assert world.viewer.post(VISITS, {"report": report.pk}, format="json").status_code == 403
    assert not SiteVisit.objects.exists()
