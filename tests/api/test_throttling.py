import pytest

from accounts.api.throttles import ApiKeyRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_per_minute(monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})


def test_a_key_over_its_limit_gets_429_with_retry_after(world, two_per_minute):
    assert world.client.get("/api/v1/teams/").status_code == 200
    assert world.client.get("/api/v1/teams/").status_code == 200
    response = world.client.get("/api/v1/teams/")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response.headers["Retry-After"]) > 0


def test_the_limit_is_per_key(world, two_per_minute):
    for _ in range(3):
        world.client.get("/api/v1/teams/")
    assert world.client.get("/api/v1/teams/").status_code == 429
    assert world.their_client.get("/api/v1/teams/").status_code == 200


def test_the_rates_come_from_settings():
    from django.conf import settings

    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert {"api_key", "user", "telemetry"} <= set(rates)
