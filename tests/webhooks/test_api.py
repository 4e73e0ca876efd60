"""/api/v1/webhooks/: team-scoped endpoints and delivery log; admins write,
lower roles read, other teams see nothing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_key_create
from tests.factories import SupportUserFactory, TeamFactory
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/in"


def client_as(user):
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def endpoint(setup):
    return services.endpoint_create(team=setup.owner, url=URL, events=["report.filed"], by=None)[0]


def test_an_admin_registers_an_endpoint_and_sees_the_secret_once(setup):
    client = client_as(setup.owner_admin)
    response = client.post("/api/v1/webhooks/endpoints/", {
        "team": setup.owner.pk, "url": URL, "events": ["report.filed", "report.resolved"],
        "description": "Ticketing"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["is_active"] is True
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret and endpoint.created_by == setup.owner_admin
    shown = client.get(f"/api/v1/webhooks/endpoints/{endpoint.pk}/").json()
    assert "secret" not in shown and shown["events"] == ["report.filed", "report.resolved"]

    rotated = client.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/rotate-secret/").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != body["secret"]
    assert rotated["previous_secret_expires_at"]


def test_an_internal_url_is_a_400_on_the_url_field(setup):
    response = client_as(setup.owner_admin).post("/api/v1/webhooks/endpoints/", {
        "team": setup.owner.pk, "url": "https://169.254.169.254/latest/", "events": ["report.filed"]},
        format="json")
    assert response.status_code == 400
    assert "link-local" in str(response.json()["fields"]["url"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.INSTALLER])
def test_lower_roles_read_but_do_not_write(setup, endpoint, member_factory, role):
    client = client_as(member_factory(setup.owner, role))
    assert client.get("/api/v1/webhooks/endpoints/").json()["count"] == 1
    assert client.post("/api/v1/webhooks/endpoints/", {
        "team": setup.owner.pk, "url": URL, "events": ["report.filed"]}, format="json").status_code == 400
    assert client.patch(f"/api/v1/webhooks/endpoints/{endpoint.pk}/", {"url": URL + "2"},
                        format="json").status_code == 403
    assert client.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/rotate-secret/").status_code == 403
    assert client.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/test/").status_code == 403
    assert client.delete(f"/api/v1/webhooks/endpoints/{endpoint.pk}/").status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.url == URL and WebhookDelivery.objects.count() == 0


def test_another_teams_endpoint_and_deliveries_are_not_found(setup, endpoint, member_factory):
    stranger = member_factory(TeamFactory(), Role.OWNER)
    services.endpoint_send_test(endpoint=endpoint, by=None)
    client = client_as(stranger)
    assert client.get("/api/v1/webhooks/endpoints/").json()["count"] == 0
    assert client.get(f"/api/v1/webhooks/endpoints/{endpoint.pk}/").status_code == 404
    assert client.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/test/").status_code == 404
    assert client.get("/api/v1/webhooks/deliveries/").json()["count"] == 0


def test_an_admin_key_sends_a_test_event_and_reads_the_delivery_log(setup, endpoint):
    _key, raw = api_key_create(team=setup.owner, name="CSMS", role=Role.ADMIN, by=SupportUserFactory())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/test/")
    assert response.status_code == 202 and response.json()["event_type"] == "webhook.test"
    log = client.get("/api/v1/webhooks/deliveries/", {"endpoint": endpoint.pk, "status": "pending"}).json()
    assert [d["webhook_id"] for d in log["results"]] == [response.json()["webhook_id"]]


def test_switching_an_endpoint_back_on_through_the_api(setup, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False, disabled_reason="410")
    client = client_as(setup.owner_admin)
    assert client.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/test/").status_code == 409
    response = client.patch(f"/api/v1/webhooks/endpoints/{endpoint.pk}/", {"is_active": True}, format="json")
    assert response.status_code == 200 and response.json()["disabled_reason"] == ""


def test_unknown_event_types_are_refused(setup):
    response = client_as(setup.owner_admin).post("/api/v1/webhooks/endpoints/", {
        "team": setup.owner.pk, "url": URL, "events": ["report.deleted"]}, format="json")
    assert response.status_code == 400 and "events" in response.json()["fields"]


def test_an_admin_sends_a_failed_delivery_again_through_the_api(setup, endpoint, member_factory):
    delivery = services.endpoint_send_test(endpoint=endpoint, by=None)
    url = f"/api/v1/webhooks/deliveries/{delivery.pk}/retry/"
    assert client_as(setup.owner_admin).post(url).status_code == 409  # still pending
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
    assert client_as(member_factory(setup.owner, Role.VIEWER)).post(url).status_code == 403
    response = client_as(setup.owner_admin).post(url)
    assert response.status_code == 202 and response.json()["status"] == "pending"
