"""Unknown addresses under /api/ answer the API's JSON 404 for every method,
also to a request that the CSRF check would refuse (a browser session)."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Role

pytestmark = pytest.mark.django_db

METHODS = ["get", "post", "put", "patch", "delete", "options"]
ADDRESSES = ["/api/v1/no-such-thing/", "/api/v1/reports/1/no-such-action/", "/api/v2/reports/", "/api/nothing"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("address", ADDRESSES)
def test_an_unknown_api_address_is_a_json_404_with_a_key(make_key, team, method, address):
    _, raw = make_key(team, Role.ADMIN)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = getattr(client, method)(address, {"a": 1}, format="json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": 404, "code": "not_found", "detail": "There is no such API endpoint."}


@pytest.mark.parametrize("method", ["post", "delete"])
def test_an_unknown_api_address_is_a_json_404_for_a_logged_in_browser(member_factory, team, method):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(member_factory(team, Role.ADMIN))

    response = getattr(client, method)("/api/v1/no-such-thing/", {"a": 1}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
