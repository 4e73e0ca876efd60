import pytest

from chargepoints.models import ChargePoint, ChargePointState
from tests.factories import ChargePointFactory, SiteFactory

pytestmark = pytest.mark.django_db


def new_cp(world, **extra):
    return {
        "site": world.cp.site_id,
        "owner": world.ours.pk,
        "operator": world.ours.pk,
        "name": "Harbour 2",
        "ocpp_id": "DK-AAR-0002",
        "connectivity": "cellular",
        **extra,
    }


def test_list_shows_our_charge_points_only(world):
    ids = {c["id"] for c in world.client.get("/api/v1/charge-points/").json()["results"]}
    assert ids == {world.cp.pk}


def test_list_filters_and_search(world):
    broken = ChargePointFactory(site=world.cp.site, state=ChargePointState.ERROR, ocpp_id="ERR-1")
    body = world.client.get("/api/v1/charge-points/?state=error").json()
    assert [c["id"] for c in body["results"]] == [broken.pk]
    body = world.client.get(f"/api/v1/charge-points/?team={world.ours.pk}&search=ERR-").json()
    assert [c["id"] for c in body["results"]] == [broken.pk]
    body = world.client.get(f"/api/v1/charge-points/?site={world.cp.site_id}&ordering=-name").json()
    assert len(body["results"]) == 2


def test_filter_by_another_teams_site_is_400(world):
    response = world.client.get(f"/api/v1/charge-points/?site={world.their_cp.site_id}")
    assert response.status_code == 400
    assert "site" in response.json()["fields"]


def test_admin_key_registers_a_charge_point(world):
    response = world.client.post("/api/v1/charge-points/", new_cp(world), format="json")
    assert response.status_code == 201, response.json()
    cp = ChargePoint.objects.get(ocpp_id="DK-AAR-0002")
    assert (cp.owner, cp.operator, cp.state) == (world.ours, world.ours, ChargePointState.UNKNOWN)


def test_the_live_state_is_read_only(world):
    response = world.client.patch(
        f"/api/v1/charge-points/{world.cp.pk}/", {"state": "error", "name": "Renamed"}, format="json"
    )
    assert response.status_code == 200
    world.cp.refresh_from_db()
    assert (world.cp.name, world.cp.state) == ("Renamed", ChargePointState.AVAILABLE)


def test_a_key_can_never_write_to_another_teams_charge_point(world):
    url = f"/api/v1/charge-points/{world.their_cp.pk}/"
    assert world.client.patch(url, {"name": "Mine now"}, format="json").status_code == 404
    assert world.client.put(url, new_cp(world), format="json").status_code == 404
    assert world.client.delete(url).status_code == 404
    world.their_cp.refresh_from_db()
    assert world.their_cp.name != "Mine now"


def test_a_key_cannot_register_a_charge_point_for_another_team(world):
    response = world.client.post(
        "/api/v1/charge-points/",
        new_cp(world, owner=world.theirs.pk, operator=world.theirs.pk, site=world.their_cp.site_id),
        format="json",
    )
    assert response.status_code == 400
    assert {"owner", "operator", "site"} <= set(response.json()["fields"])


def test_a_key_cannot_move_its_charge_point_to_another_team(world):
    response = world.client.patch(
        f"/api/v1/charge-points/{world.cp.pk}/", {"owner": world.theirs.pk}, format="json"
    )
    assert response.status_code == 400
    world.cp.refresh_from_db()
    assert world.cp.owner == world.ours


def test_the_operator_team_admin_edits_a_charge_point_it_operates(world, make_key, client_for):
    operated = ChargePointFactory(site__team=world.theirs, owner=world.theirs, operator=world.ours)
    response = world.client.patch(f"/api/v1/charge-points/{operated.pk}/", {"firmware_version": "7.0"}, format="json")
    assert response.status_code == 200


def test_viewer_key_cannot_edit(world):
    response = world.viewer.patch(f"/api/v1/charge-points/{world.cp.pk}/", {"name": "X"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(
    "bad, field",
    [({"connectivity": "carrier pigeon"}, "connectivity"), ({"ocpp_id": ""}, "ocpp_id"), ({"site": "x"}, "site")],
)
def test_bad_charge_point_input_is_400(world, bad, field):
    response = world.client.post("/api/v1/charge-points/", new_cp(world, **bad), format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_a_duplicate_ocpp_id_is_400(world):
    response = world.client.post("/api/v1/charge-points/", new_cp(world, ocpp_id=world.cp.ocpp_id), format="json")
    assert response.status_code == 400
    assert "ocpp_id" in response.json()["fields"]


def test_charge_point_without_key_is_401(anon, world):
    assert anon.get(f"/api/v1/charge-points/{world.cp.pk}/").status_code == 401


def test_deleting_a_charge_point_without_reports(world):
    spare = ChargePointFactory(site=SiteFactory(team=world.ours))
    assert world.client.delete(f"/api/v1/charge-points/{spare.pk}/").status_code == 204


def test_list_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    for _ in range(20):
        ChargePointFactory(site=world.cp.site)
    with django_assert_max_num_queries(6):
        assert len(world.client.get("/api/v1/charge-points/").json()["results"]) == 21
