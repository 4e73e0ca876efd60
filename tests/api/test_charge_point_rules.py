"""Finding 2 through the API: 403 and 409 in the API's error format."""

import pytest

from chargepoints.models import ChargePoint, Heartbeat
from tests.factories import ChargePointFactory, ReportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operated(world):
    """Their charge point, which our team operates."""
    return ChargePointFactory(site__team=world.theirs, owner=world.theirs, operator=world.ours)


def test_the_operator_cannot_take_ownership(world, operated):
    response = world.client.patch(f"/api/v1/charge-points/{operated.pk}/", {"owner": world.ours.pk}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied" and "support" in response.json()["detail"]
    assert ChargePoint.objects.get(pk=operated.pk).owner == world.theirs


def test_the_owner_cannot_remove_the_operator(world, operated):
    response = world.their_client.patch(
        f"/api/v1/charge-points/{operated.pk}/", {"operator": world.theirs.pk}, format="json"
    )
    assert response.status_code == 403
    assert ChargePoint.objects.get(pk=operated.pk).operator == world.ours


def test_the_operator_cannot_delete_the_owners_charge_point(world, operated):
    response = world.client.delete(f"/api/v1/charge-points/{operated.pk}/")
    assert response.status_code == 403
    assert ChargePoint.objects.filter(pk=operated.pk).exists()


def test_deleting_a_charge_point_with_telemetry_is_409_and_keeps_it(world):
    Heartbeat.objects.create(charge_point=world.cp, event_id="hb-9", occurred_at=world.cp.state_since)
    response = world.client.delete(f"/api/v1/charge-points/{world.cp.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "protected" and "heartbeats" in response.json()["detail"]
    assert Heartbeat.objects.filter(charge_point=world.cp).exists()


def test_deleting_a_charge_point_with_reports_is_409(world):
    ReportFactory(charge_point=world.cp)
    assert world.client.delete(f"/api/v1/charge-points/{world.cp.pk}/").status_code == 409


def test_the_operator_cannot_register_one_on_the_owners_site(world, operated):
    response = world.client.post("/api/v1/charge-points/", {
        "site": operated.site_id, "owner": world.ours.pk, "operator": world.ours.pk,
        "name": "Sneaky", "ocpp_id": "SNEAKY-1",
    }, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"site": ["The site must belong to the owner team."]}


def test_a_viewer_key_cannot_register(world):
    response = world.viewer.post("/api/v1/charge-points/", {
        "site": world.cp.site_id, "owner": world.ours.pk, "operator": world.ours.pk,
        "name": "X", "ocpp_id": "X-9",
    }, format="json")
    assert response.status_code == 403


def test_the_operator_may_still_edit_the_identity(world, operated):
    response = world.client.patch(f"/api/v1/charge-points/{operated.pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Renamed"
