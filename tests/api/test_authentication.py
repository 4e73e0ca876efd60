import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_key_revoke
from tests.factories import PASSWORD, SupportUserFactory

pytestmark = pytest.mark.django_db


def test_no_key_is_401_with_a_challenge(anon):
    response = anon.get("/api/v1/reports/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {
        "status": 401,
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }


@pytest.mark.parametrize("header", ["Bearer cpr_nope_nope", "Bearer", "Bearer a b", "Api-Key wrong"])
def test_a_bad_key_is_401(anon, header):
    anon.credentials(HTTP_AUTHORIZATION=header)
    response = anon.get("/api/v1/teams/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_the_api_key_scheme_works_as_well_as_bearer(world):
    client = APIClient()
    raw = world.client._credentials["HTTP_AUTHORIZATION"].split()[1]
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert client.get("/api/v1/teams/").status_code == 200


def test_a_revoked_key_is_401(world):
    api_key_revoke(api_key=world.key, by=SupportUserFactory())
    assert world.client.get("/api/v1/teams/").status_code == 401


def test_a_request_records_last_used(world):
    world.key.refresh_from_db()
    world.key.last_used_at = None
    world.key.save(update_fields=["last_used_at"])
    world.client.get("/api/v1/teams/")
    world.key.refresh_from_db()
    assert world.key.last_used_at is not None


def test_session_login_works_for_the_browsable_api(member_factory, world):
    user = member_factory(world.ours, Role.VIEWER)
    client = APIClient()
    assert client.login(email=user.email, password=PASSWORD)
    response = client.get("/api/v1/charge-points/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert world.cp.ocpp_id in response.content.decode()
    assert world.their_cp.ocpp_id not in response.content.decode()


def test_a_key_acts_under_its_own_name_on_the_timeline(world):
    response = world.client.post(
        "/api/v1/reports/",
        {"charge_point": world.cp.pk, "source": "user", "reason": "broken"},
        format="json",
    )
    timeline = world.client.get(f"/api/v1/reports/{response.json()['id']}/timeline/").json()
    assert timeline["results"][0]["actor_label"] == "API key 'CSMS production'"


def test_an_unknown_api_address_is_a_json_404(anon):
    response = anon.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
