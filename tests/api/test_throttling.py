"""Rate limits per API key and kind of call: a burst gets 429 with
Retry-After, other keys are unaffected, every answer says how close the
caller is (RateLimit fields), and support sets a team's own limits."""

import pytest

from accounts.models import ApiKey
from accounts.team_services import team_update
from core.errors import Invalid, NotAllowed
from tests.factories import SupportUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_reads_per_minute(settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "read": 2}


def test_a_key_over_its_limit_gets_429_with_retry_after(world, two_reads_per_minute):
    first = world.client.get("/api/v1/teams/")
    assert first.status_code == 200
    assert first.headers["RateLimit-Limit"] == "2" and first.headers["RateLimit-Remaining"] == "1"
    assert first.headers["RateLimit-Policy"] == "2;w=60"
    assert 0 < int(first.headers["RateLimit-Reset"]) <= 60
    assert world.client.get("/api/v1/teams/").headers["RateLimit-Remaining"] == "0"
    response = world.client.get("/api/v1/teams/")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["RateLimit-Remaining"] == "0"


def test_the_limit_is_per_key(world, two_reads_per_minute):
    for _ in range(3):
        world.client.get("/api/v1/teams/")
    assert world.client.get("/api/v1/teams/").status_code == 429
    assert world.their_client.get("/api/v1/teams/").status_code == 200


def test_reads_and_writes_are_counted_apart(world, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "read": 1, "write": 5}
    assert world.client.get("/api/v1/teams/").status_code == 200
    assert world.client.get("/api/v1/teams/").status_code == 429
    write = world.client.post("/api/v1/reports/", {}, format="json")
    assert write.status_code == 400  # counted as a write, refused for its body, not throttled
    assert write.headers["RateLimit-Limit"] == "5"


def test_a_teams_own_limit_overrides_the_default(world, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "read": 100}
    team_update(team=world.ours, by=SupportUserFactory(), api_reads_per_minute=1)
    assert world.client.get("/api/v1/teams/").headers["RateLimit-Limit"] == "1"
    assert world.client.get("/api/v1/teams/").status_code == 429
    assert world.their_client.get("/api/v1/teams/").headers["RateLimit-Limit"] == "100"


def test_only_support_sets_limits_and_they_must_make_sense(world, member_factory):
    owner = member_factory(world.ours, "owner")
    with pytest.raises(NotAllowed):
        team_update(team=world.ours, by=owner, api_reads_per_minute=10_000)
    with pytest.raises(Invalid):
        team_update(team=world.ours, by=SupportUserFactory(), api_writes_per_minute=0)


def test_a_key_that_hits_its_limit_is_marked_once_a_minute(world, two_reads_per_minute):
    for _ in range(6):
        world.client.get("/api/v1/teams/")
    limited = ApiKey.objects.filter(team=world.ours, throttled_minutes__gt=0)
    assert [(key.throttled_minutes, key.last_throttled_at is not None) for key in limited] == [(1, True)]
    assert not ApiKey.objects.filter(team=world.theirs, throttled_minutes__gt=0).exists()


def test_the_schema_documents_the_headers_and_the_429(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    responses = schema["paths"]["/api/v1/reports/"]["get"]["responses"]
    assert "RateLimit-Remaining" in responses["200"]["headers"]
    assert "Retry-After" in responses["429"]["headers"]
