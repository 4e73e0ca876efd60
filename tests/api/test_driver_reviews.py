"""The platform key sends drivers' reviews; nobody else may."""

import pytest

from accounts.services import api_key_create_platform
from reporting.catalogue import Reason
from reporting.models import Report, Review
from tests.factories import ChargeFactory, ChargePointFactory, SupportUserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/driver-reviews/"


@pytest.fixture
def platform(client_for):
    key, raw = api_key_create_platform(name="Driver app", by=SupportUserFactory())
    return key, client_for(raw)


def test_platform_key_sends_a_review_tied_to_the_charge_by_public_code(platform):
    _, client = platform
    cp = ChargePointFactory()
    charge = ChargeFactory(charge_point=cp)
    response = client.post(URL, {"charge_point": cp.public_code.lower(), "rating": 4, "comment": "Fine"},
                           format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["charge_found"] is True and body["reported"] is False and body["rating"] == 4
    review = Review.objects.get()
    assert review.charge == charge and review.channel == "app" and review.name == ""


def test_a_low_rating_with_a_comment_from_the_app_files_a_report_named_after_the_key(platform):
    _, client = platform
    ChargePointFactory(ocpp_id="DK-9")
    response = client.post(URL, {"charge_point": "DK-9", "rating": 1, "comment": "Blocked by a taxi",
                                 "driver": {"name": "Jan", "email": "jan@example.com"}}, format="json")
    assert response.status_code == 201 and response.json()["reported"] is True
    report = Report.objects.get()
    assert report.reason == Reason.CUSTOMER_EXPERIENCE and report.reporter_email == "jan@example.com"
    assert "Driver app" in report.events.get(kind="created").actor_label


@pytest.mark.parametrize("data", [{"rating": 6}, {"rating": 0}, {"comment": "x" * 1001}, {"charge_point": "nope"}])
def test_bad_input_is_a_400_and_nothing_is_saved(platform, data):
    _, client = platform
    cp = ChargePointFactory()
    response = client.post(URL, {"charge_point": cp.ocpp_id, "rating": 3, **data}, format="json")
    assert response.status_code == 400
    assert Review.objects.count() == 0


def test_a_team_key_or_no_key_may_not_send_reviews(world, anon):
    assert world.client.post(URL, {"charge_point": world.cp.ocpp_id, "rating": 5}, format="json").status_code == 403
    assert anon.post(URL, {"charge_point": world.cp.ocpp_id, "rating": 5}, format="json").status_code in (401, 403)
    assert Review.objects.count() == 0


def test_the_review_endpoint_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/driver-reviews/" in schema and "DriverReviewCreate" in schema
