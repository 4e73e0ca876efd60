import re

import pytest
from django.test import Client

import accounts.admin_api_keys  # noqa: F401  (registers the admins; accounts/admin.py imports it too)
from accounts.models import ApiKey, Role
from accounts.services import api_key_authenticate, api_key_create
from tests.factories import PASSWORD, TeamFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def created_key(response) -> str:
    match = re.search(r'<code id="api-key"[^>]*>(cpr_[^<]+)</code>', response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


def test_support_creates_a_key_and_sees_it_once(support_user, team):
    client = logged_in(support_user)
    response = client.post(
        "/admin/accounts/apikey/add/", {"team": team.pk, "name": "CSMS production", "role": "installer"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = created_key(response)
    key = ApiKey.objects.get()
    assert (key.team, key.role, key.created_by) == (team, Role.INSTALLER, support_user)
    assert api_key_authenticate(raw_key=raw) == key
    # Never again: not on the list, not on the key's page.
    for url in ("/admin/accounts/apikey/", f"/admin/accounts/apikey/{key.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200
        assert raw not in page.content.decode()


def test_team_admin_creates_keys_for_their_team_only(member_factory, team):
    admin_user = member_factory(team, Role.ADMIN)
    other = TeamFactory()
    client = logged_in(admin_user)
    form = client.get("/operator/accounts/apikey/add/")
    assert form.status_code == 200
    assert other.name not in form.content.decode()
    response = client.post("/operator/accounts/apikey/add/", {"team": other.pk, "name": "X", "role": "viewer"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    response = client.post("/operator/accounts/apikey/add/", {"team": team.pk, "name": "App", "role": "admin"})
    created_key(response)
    assert ApiKey.objects.get().team == team


def test_team_admin_cannot_create_a_key_above_their_role(member_factory, team):
    client = logged_in(member_factory(team, Role.ADMIN))
    response = client.post("/operator/accounts/apikey/add/", {"team": team.pk, "name": "App", "role": "owner"})
    assert "above your own" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_team_admin_sees_only_their_teams_keys(member_factory, team, support_user):
    mine, _ = api_key_create(team=team, name="Mine", role=Role.VIEWER, by=support_user)
    theirs, _ = api_key_create(team=TeamFactory(), name="Theirs", role=Role.VIEWER, by=support_user)
    client = logged_in(member_factory(team, Role.ADMIN))
    page = client.get("/operator/accounts/apikey/").content.decode()
    assert "Mine" in page and "Theirs" not in page
    assert client.get(f"/operator/accounts/apikey/{theirs.pk}/revoke/").status_code == 404


@pytest.mark.parametrize("role", [Role.VIEWER, Role.INSTALLER])
def test_members_below_admin_cannot_manage_keys(member_factory, team, role):
    client = logged_in(member_factory(team, role))
    assert client.get("/operator/accounts/apikey/").status_code == 403
    assert client.get("/operator/accounts/apikey/add/").status_code == 403


def test_revoke_asks_for_confirmation_then_revokes(member_factory, team, support_user):
    key, raw = api_key_create(team=team, name="App", role=Role.VIEWER, by=support_user)
    client = logged_in(member_factory(team, Role.ADMIN))
    url = f"/operator/accounts/apikey/{key.pk}/revoke/"
    page = client.get(url)
    assert page.status_code == 200 and "cannot be undone" in page.content.decode()
    assert api_key_authenticate(raw_key=raw) is not None
    response = client.post(url)
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api_key_authenticate(raw_key=raw) is None


def test_support_revokes_any_teams_key(support_user, team):
    key, _ = api_key_create(team=team, name="App", role=Role.VIEWER, by=support_user)
    logged_in(support_user).post(f"/admin/accounts/apikey/{key.pk}/revoke/")
    key.refresh_from_db()
    assert key.revoked_by == support_user


def test_keys_are_neither_edited_nor_deleted(support_user, team):
    key, _ = api_key_create(team=team, name="App", role=Role.VIEWER, by=support_user)
    client = logged_in(support_user)
    client.post(f"/admin/accounts/apikey/{key.pk}/change/", {"name": "Renamed", "role": "owner"})
    assert client.post(f"/admin/accounts/apikey/{key.pk}/delete/", {"post": "yes"}).status_code == 403
    key.refresh_from_db()
    assert (key.name, key.role) == ("App", Role.VIEWER)


def test_visitors_are_sent_to_the_login_page():
    for url in ("/operator/accounts/apikey/", "/admin/accounts/apikey/"):
        response = Client().get(url)
        assert response.status_code == 302 and "login" in response["Location"]
