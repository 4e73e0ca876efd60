"""Hostile input never gives a 500, on SQLite or PostgreSQL."""

import pytest

from reporting.models import Report
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/reports/?search=%00",
        "/api/v1/reports/?charge_point=99999999999999999999999",
        "/api/v1/reports/?page_size=-1",
        "/api/v1/reports/?ordering=password",
        "/api/v1/reports/99999999999999999999999/",
        "/api/v1/reports/abc/",
        "/api/v1/charge-points/?search=%00&vendor=%00",
        "/api/v1/sites/?page=99999999999999999999",
        "/api/v1/reports/1/timeline/?created_after=%00",
    ],
)
def test_hostile_queries_are_4xx(world, url):
    ReportFactory(charge_point=world.cp)
    response = world.client.get(url)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json()["status"] == response.status_code


@pytest.mark.parametrize(
    "body",
    [
        {"charge_point": 10**30, "source": "user", "reason": "broken"},
        {"charge_point": "1; DROP TABLE", "source": "user", "reason": "broken"},
        {"charge_point": 1, "source": "user", "reason": "broken", "description": "a\x00b"},
        {"charge_point": 1, "source": ["user"], "reason": {"x": 1}},
        [1, 2, 3],
        "just a string",
    ],
)
def test_hostile_bodies_are_400(world, body):
    response = world.client.post("/api/v1/reports/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "parse_error"}


def test_a_huge_person_id_is_400(world):
    report = ReportFactory(charge_point=world.cp)
    response = world.client.post(
        f"/api/v1/reports/{report.pk}/assign/", {"party": "owner", "person": 10**30}, format="json"
    )
    assert response.status_code == 400


DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


@pytest.mark.parametrize("raw", [DEEP, DEEP_OBJECT, '{"events": ' + "[" * 40 + "]" * 40 + "}"])
@pytest.mark.parametrize(
    "method, url",
    [
        ("post", "/api/v1/reports/"),
        ("post", "/api/v1/telemetry/"),
        ("post", "/api/v1/sites/"),
        ("patch", "/api/v1/charge-points/{cp}/"),
        ("put", "/api/v1/teams/{team}/report-settings/"),
    ],
)
def test_json_nested_too_deep_is_a_400_in_the_error_format(world, raw, method, url):
    url = url.format(cp=world.cp.pk, team=world.ours.pk)

    response = getattr(world.client, method)(url, raw, content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"]) == (400, "parse_error")
    assert "nested deeper than" in body["detail"]


def test_json_of_ordinary_depth_is_still_accepted(world):
    events = [{"event_id": "e1", "type": "heartbeat", "ocpp_id": world.cp.ocpp_id,
               "occurred_at": "2026-01-01T00:00:00Z"}]
    response = world.client.post("/api/v1/telemetry/", {"events": events}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"charge_point": 1.5},
        {"charge_point": "CP"},
        {"charge_point": True},
        {"description": 42},
        {"description": ["a"]},
        {"reporter_name": False},
        {"reporter_email": 7},
    ],
)
def test_wrong_json_types_are_refused_not_coerced(world, change):
    body = {"charge_point": world.cp.pk, "source": "user", "reason": "broken", **change}
    if "charge_point" in change and change["charge_point"] == 1.5:
        body["charge_point"] = world.cp.pk + 0.5

    response = world.client.post("/api/v1/reports/", body, format="json")

    assert response.status_code == 400, response.json()
    [field] = change
    assert list(response.json()["fields"]) == [field]
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/v1/reports/{report}/resolve/", {"note": 5}),
        ("/api/v1/reports/{report}/comments/", {"body": 12.5}),
        ("/api/v1/reports/{report}/assign/", {"party": "owner", "note": {"a": 1}}),
        ("/api/v1/sites/", {"team": "{team}", "name": 1, "country": "DK"}),
        ("/api/v1/teams/{team}/report-settings/", {"email_updates": True,
                                                   "contacts": [{"name": 3, "email": "a@example.com"}]}),
    ],
)
def test_numbers_are_not_text_anywhere(world, url, body):
    report = ReportFactory(charge_point=world.cp)
    url = url.format(report=report.pk, team=world.ours.pk)
    body = {k: (world.ours.pk if v == "{team}" else v) for k, v in body.items()}
    method = world.client.put if "report-settings" in url else world.client.post

    response = method(url, body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"


def test_an_integer_charge_point_is_still_accepted(world):
    body = {"charge_point": world.cp.pk, "source": "user", "reason": "broken", "description": "Torn cable"}
    response = world.client.post("/api/v1/reports/", body, format="json")
    assert response.status_code == 201, response.json()
    assert Report.objects.get().charge_point == world.cp
