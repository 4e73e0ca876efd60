import pytest

from chargepoints.models import Site
from tests.factories import ChargePointFactory, SiteFactory

pytestmark = pytest.mark.django_db

NEW_SITE = {"name": "Harbour", "address": "Havnegade 1", "city": "Aarhus", "country": "DK"}


def test_list_shows_our_sites_only(world):
    ids = {s["id"] for s in world.client.get("/api/v1/sites/").json()["results"]}
    assert ids == {world.cp.site_id}


def test_list_filters_by_team_and_searches(world):
    SiteFactory(team=world.ours, name="Airport", city="Billund")
    body = world.client.get("/api/v1/sites/?search=airport").json()
    assert [s["name"] for s in body["results"]] == ["Airport"]
    body = world.client.get(f"/api/v1/sites/?team={world.ours.pk}&city=billund").json()
    assert [s["name"] for s in body["results"]] == ["Airport"]


def test_filtering_by_another_teams_id_is_400(world):
    response = world.client.get(f"/api/v1/sites/?team={world.theirs.pk}")
    assert response.status_code == 400
    assert "team" in response.json()["fields"]


def test_admin_key_creates_a_site_in_its_team(world):
    response = world.client.post("/api/v1/sites/", {**NEW_SITE, "team": world.ours.pk}, format="json")
    assert response.status_code == 201, response.json()
    assert Site.objects.get(pk=response.json()["id"]).team == world.ours


def test_a_key_cannot_create_a_site_in_another_team(world):
    response = world.client.post("/api/v1/sites/", {**NEW_SITE, "team": world.theirs.pk}, format="json")
    assert response.status_code == 400
    assert "team" in response.json()["fields"]
    assert not Site.objects.filter(name="Harbour").exists()


def test_a_viewer_key_cannot_create_a_site(world):
    response = world.viewer.post("/api/v1/sites/", {**NEW_SITE, "team": world.ours.pk}, format="json")
    assert response.status_code == 400  # its team is not a valid choice for a viewer
    assert "team" in response.json()["fields"]


@pytest.mark.parametrize(
    "bad, field",
    [({"country": "dk"}, "country"), ({"latitude": "91"}, "latitude"), ({"name": ""}, "name")],
)
def test_bad_site_input_is_400_with_field_errors(world, bad, field):
    response = world.client.post("/api/v1/sites/", {**NEW_SITE, "team": world.ours.pk, **bad}, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_admin_key_changes_its_site(world):
    response = world.client.patch(f"/api/v1/sites/{world.cp.site_id}/", {"city": "Odense"}, format="json")
    assert response.status_code == 200
    assert Site.objects.get(pk=world.cp.site_id).city == "Odense"


def test_viewer_key_cannot_change_a_site(world):
    response = world.viewer.patch(f"/api/v1/sites/{world.cp.site_id}/", {"city": "Odense"}, format="json")
    assert response.status_code == 403


def test_another_teams_site_is_404_to_read_and_write(world):
    url = f"/api/v1/sites/{world.their_cp.site_id}/"
    assert world.client.get(url).status_code == 404
    assert world.client.patch(url, {"city": "Odense"}, format="json").status_code == 404
    assert world.client.delete(url).status_code == 404


def test_site_without_key_is_401(anon, world):
    assert anon.get(f"/api/v1/sites/{world.cp.site_id}/").status_code == 401
    assert anon.post("/api/v1/sites/", NEW_SITE, format="json").status_code == 401


def test_deleting_a_site_with_charge_points_is_409(world):
    response = world.client.delete(f"/api/v1/sites/{world.cp.site_id}/")
    assert response.status_code == 409
    assert response.json()["code"] == "protected"


def test_deleting_an_empty_site(world):
    site = SiteFactory(team=world.ours)
    assert world.client.delete(f"/api/v1/sites/{site.pk}/").status_code == 204
    assert not Site.objects.filter(pk=site.pk).exists()


def test_a_site_holding_our_charge_point_is_visible_but_not_writable(world):
    shared = ChargePointFactory(site__team=world.theirs, owner=world.theirs, operator=world.ours)
    url = f"/api/v1/sites/{shared.site_id}/"
    assert world.client.get(url).status_code == 200
    assert world.client.patch(url, {"city": "Odense"}, format="json").status_code == 403
