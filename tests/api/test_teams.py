import pytest

from accounts.models import Role

pytestmark = pytest.mark.django_db


def test_a_key_lists_only_its_team_with_its_role(world):
    body = world.client.get("/api/v1/teams/").json()
    assert [(t["id"], t["your_role"]) for t in body["results"]] == [(world.ours.pk, "admin")]


def test_a_team_shows_through_a_charge_point_it_owns_for_us(world, make_key, client_for):
    from tests.factories import ChargePointFactory

    ChargePointFactory(site__team=world.theirs, owner=world.theirs, operator=world.ours)
    ids = {t["id"]: t["your_role"] for t in world.client.get("/api/v1/teams/").json()["results"]}
    # Sites and charge points show it; the team list is about membership.
    assert ids == {world.ours.pk: "admin"}


def test_retrieve_own_team(world):
    response = world.client.get(f"/api/v1/teams/{world.ours.pk}/")
    assert response.status_code == 200
    assert response.json()["name"] == world.ours.name


def test_another_teams_team_is_404(world):
    assert world.client.get(f"/api/v1/teams/{world.theirs.pk}/").status_code == 404


def test_teams_without_key_is_401(anon, world):
    assert anon.get(f"/api/v1/teams/{world.ours.pk}/").status_code == 401


def test_teams_filters_and_search(world, make_key, client_for, support_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(support_user)
    assert {t["id"] for t in client.get("/api/v1/teams/?country=NL").json()["results"]} == {world.theirs.pk}
    assert {t["id"] for t in client.get(f"/api/v1/teams/?search={world.ours.name}").json()["results"]} == {
        world.ours.pk
    }


def test_teams_bad_filter_is_400(world):
    response = world.client.get("/api/v1/teams/?language=klingon")
    assert response.status_code == 400
    assert "language" in response.json()["fields"]


def test_teams_cannot_be_written(world):
    response = world.client.post("/api/v1/teams/", {"name": "X", "country": "DK"}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_viewer_key_sees_viewer_role(world):
    body = world.viewer.get("/api/v1/teams/").json()
    assert body["results"][0]["your_role"] == Role.VIEWER
