"""The "Generate OCPP password" action in both back-offices, and the
password service behind it."""

import re

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Role
from gateway.models import ChargePointCredential
from gateway.selectors import gateway_authenticate
from gateway.services import credential_generate
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db


def generate(client, site, cp):
    return client.post(f"/{site}/chargepoints/chargepoint/",
                       {"action": "generate_ocpp_password", "_selected_action": [cp.pk]})


def shown_password(response) -> str:
    [password] = re.findall(r'<code class="ocpp-password">([^<]+)</code>', response.content.decode())
    return password


def test_support_generates_a_password_shown_once_and_stored_as_a_hash(client, support_user):
    cp = ChargePointFactory()
    client.force_login(support_user)

    response = generate(client, "admin", cp)

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    password = shown_password(response)
    credential = ChargePointCredential.objects.get(charge_point=cp)
    assert password not in (credential.password_hash, credential.salt) and len(password) >= 16
    assert gateway_authenticate(ocpp_id=cp.ocpp_id, password=password).charge_point_id == cp.pk
    assert gateway_authenticate(ocpp_id=cp.ocpp_id, password=password + "x").refusal == "wrong_password"
    # The change page never shows it again.
    assert password not in client.get(f"/admin/chargepoints/chargepoint/{cp.pk}/change/").content.decode()


def test_a_new_password_replaces_the_old_one(client, support_user):
    cp = ChargePointFactory()
    client.force_login(support_user)
    old = shown_password(generate(client, "admin", cp))
    new = shown_password(generate(client, "admin", cp))
    assert old != new
    assert gateway_authenticate(ocpp_id=cp.ocpp_id, password=old).refusal == "wrong_password"
    assert gateway_authenticate(ocpp_id=cp.ocpp_id, password=new).refusal == ""


def test_a_team_admin_generates_one_in_the_operator_back_office(client, member_factory):
    cp = ChargePointFactory()
    client.force_login(member_factory(cp.operator, Role.ADMIN))
    password = shown_password(generate(client, "operator", cp))
    assert gateway_authenticate(ocpp_id=cp.ocpp_id, password=password).charge_point_id == cp.pk


def test_an_installer_cannot_generate_one(client, member_factory):
    cp = ChargePointFactory()
    installer = member_factory(cp.operator, Role.INSTALLER)
    client.force_login(installer)
    response = generate(client, "operator", cp)
    assert b"ocpp-password" not in response.content
    assert not ChargePointCredential.objects.exists()
    with pytest.raises(PermissionDenied):
        credential_generate(charge_point=cp, by=installer)


def test_a_charge_point_without_a_password_cannot_connect():
    cp = ChargePointFactory()
    assert gateway_authenticate(ocpp_id=cp.ocpp_id, password="").refusal == "unknown"
