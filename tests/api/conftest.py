import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_key_create
from tests.factories import ChargePointFactory, SupportUserFactory, TeamFactory


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_key():
    """make_key(team, role="admin") -> (ApiKey, raw key)."""
    creator = None

    def make(team, role=Role.ADMIN, name="CSMS production", scopes=()):
        nonlocal creator
        creator = creator or SupportUserFactory()
        return api_key_create(team=team, name=name, role=role, by=creator, scopes=scopes)

    return make


@pytest.fixture
def client_for():
    """client_for(raw_key) -> an APIClient sending that key."""

    def make(raw_key=None):
        client = APIClient()
        if raw_key:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        return client

    return make


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def world(make_key, client_for):
    """Two teams, each with a charge point and an admin key; the object the
    tests mostly use is ours, the other team's is theirs."""

    class World:
        pass

    w = World()
    w.ours = TeamFactory(country="DK")
    w.theirs = TeamFactory(country="NL")
    w.cp = ChargePointFactory(site__team=w.ours)
    w.their_cp = ChargePointFactory(site__team=w.theirs)
    w.key, raw = make_key(w.ours, Role.ADMIN)
    w.client = client_for(raw)
    w.their_key, their_raw = make_key(w.theirs, Role.ADMIN)
    w.their_client = client_for(their_raw)
    w.viewer_key, viewer_raw = make_key(w.ours, Role.VIEWER, name="BI tool")
    w.viewer = client_for(viewer_raw)
    return w
