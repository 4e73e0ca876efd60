"""Webhooks in the two back-offices: support sees every team's, a team's
admins manage theirs (secret shown once, rotate and test behind a
confirmation), lower roles read, other teams see nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import Role
from tests.factories import PASSWORD, TeamFactory
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/in"


def logged_in(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def shown_secret(response) -> str:
    match = re.search(r'<code id="webhook-secret"[^>]*>(whsec_[^<]+)</code>', response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


@pytest.fixture
def endpoint(setup):
    return services.endpoint_create(team=setup.owner, url=URL, events=["report.filed"], by=None)[0]


def test_a_team_admin_registers_an_endpoint_and_sees_the_secret_once(setup):
    client = logged_in(setup.owner_admin)
    response = client.post("/operator/webhooks/webhookendpoint/add/", {
        "team": setup.owner.pk, "url": URL, "description": "Ticketing", "events": ["report.filed", "report.resolved"]})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = shown_secret(response)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == secret and endpoint.events == ["report.filed", "report.resolved"]
    for url in ("/operator/webhooks/webhookendpoint/", f"/operator/webhooks/webhookendpoint/{endpoint.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200 and secret not in page.content.decode()


def test_an_internal_address_is_refused_on_the_form(setup):
    response = logged_in(setup.owner_admin).post("/operator/webhooks/webhookendpoint/add/", {
        "team": setup.owner.pk, "url": "https://10.0.0.8/hook", "events": ["report.filed"]})
    assert response.status_code == 200
    assert "a private address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotating_asks_first_then_shows_the_new_secret(setup, endpoint):
    client = logged_in(setup.owner_admin)
    url = f"/operator/webhooks/webhookendpoint/{endpoint.pk}/rotate/"
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Yes, rotate it" in confirm.content.decode()
    old = endpoint.secret
    endpoint.refresh_from_db()
    assert endpoint.secret == old  # nothing changed by looking
    response = client.post(url)
    new = shown_secret(response)
    endpoint.refresh_from_db()
    assert new == endpoint.secret != old and endpoint.previous_secret == old


def test_send_test_event_asks_first_then_queues_a_delivery(setup, endpoint):
    client = logged_in(setup.owner_admin)
    url = f"/operator/webhooks/webhookendpoint/{endpoint.pk}/test/"
    assert "Send the test event" in client.get(url).content.decode()
    assert not WebhookDelivery.objects.exists()
    response = client.post(url)
    delivery = WebhookDelivery.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/operator/webhooks/webhookdelivery/{delivery.pk}/change/")
    assert delivery.event_type == "webhook.test"
    page = client.get(response["Location"]).content.decode()
    assert delivery.webhook_id in page and "No attempt yet" in page


@pytest.mark.parametrize("role", [Role.VIEWER, Role.INSTALLER])
def test_lower_roles_read_but_cannot_change_rotate_or_test(setup, endpoint, member_factory, role):
    services.endpoint_send_test(endpoint=endpoint, by=None)
    client = logged_in(member_factory(setup.owner, role))
    assert URL in client.get("/operator/webhooks/webhookendpoint/").content.decode()
    page = client.get(f"/operator/webhooks/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert "Rotate secret" not in page and "Delivery log" in page
    assert client.get("/operator/webhooks/webhookendpoint/add/").status_code == 403
    assert client.post(f"/operator/webhooks/webhookendpoint/{endpoint.pk}/rotate/").status_code == 403
    assert client.post(f"/operator/webhooks/webhookendpoint/{endpoint.pk}/test/").status_code == 403
    assert client.post(f"/operator/webhooks/webhookendpoint/{endpoint.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/operator/webhooks/webhookdelivery/").status_code == 200
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists() and WebhookDelivery.objects.count() == 1


def test_another_team_sees_nothing(setup, endpoint, member_factory):
    services.endpoint_send_test(endpoint=endpoint, by=None)
    client = logged_in(member_factory(TeamFactory(), Role.OWNER))
    assert URL not in client.get("/operator/webhooks/webhookendpoint/").content.decode()
    assert client.get(f"/operator/webhooks/webhookendpoint/{endpoint.pk}/change/").status_code == 302
    assert client.get(f"/operator/webhooks/webhookendpoint/{endpoint.pk}/rotate/").status_code == 404
    delivery = WebhookDelivery.objects.get()
    assert client.get(f"/operator/webhooks/webhookdelivery/{delivery.pk}/change/").status_code == 302


def test_support_sees_every_team_and_filters_the_delivery_log(setup, endpoint, support_user):
    other = services.endpoint_create(team=TeamFactory(name="Elsewhere"), url=URL + "/2", events=["report.filed"],
                                     by=None)[0]
    services.endpoint_send_test(endpoint=endpoint, by=None)
    services.endpoint_send_test(endpoint=other, by=None)
    client = logged_in(support_user)
    listing = client.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert URL in listing and URL + "/2" in listing
    log = client.get("/admin/webhooks/webhookdelivery/", {"endpoint": other.pk, "status": "pending"})
    ids = [d.webhook_id for d in WebhookDelivery.objects.all()]
    page = log.content.decode()
    assert log.status_code == 200 and "1 webhook delivery" in page
    assert client.get("/admin/webhooks/webhookdelivery/", {"q": ids[0]}).status_code == 200


def test_delete_asks_first_and_goes_through_the_service(setup, endpoint):
    client = logged_in(setup.owner_admin)
    url = f"/operator/webhooks/webhookendpoint/{endpoint.pk}/delete/"
    assert "Are you sure" in client.get(url).content.decode()
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not WebhookEndpoint.objects.exists()
    from accounts.models import AuditLog
    assert AuditLog.objects.filter(object_type="webhooks.webhookendpoint", action="delete").exists()


def test_empty_lists_say_what_to_do(setup):
    client = logged_in(setup.owner_admin)
    assert "No webhook endpoints yet" in client.get("/operator/webhooks/webhookendpoint/").content.decode()
    assert "Nothing sent yet" in client.get("/operator/webhooks/webhookdelivery/").content.decode()
    assert "No endpoint matches" in client.get("/operator/webhooks/webhookendpoint/", {"q": "nothing"}).content.decode()


def test_a_failed_delivery_is_sent_again_after_confirmation(setup, endpoint, member_factory):
    delivery = services.endpoint_send_test(endpoint=endpoint, by=None)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=40)
    page = f"/operator/webhooks/webhookdelivery/{delivery.pk}/change/"
    retry = f"/operator/webhooks/webhookdelivery/{delivery.pk}/retry/"

    viewer = logged_in(member_factory(setup.owner, Role.VIEWER))
    assert "Send again" not in viewer.get(page).content.decode()
    assert viewer.post(retry).status_code == 403

    client = logged_in(setup.owner_admin)
    assert "Send again" in client.get(page).content.decode()
    assert "Yes, send it again" in client.get(retry).content.decode()
    assert WebhookDelivery.objects.get().status == "failed"
    assert client.post(retry).status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
