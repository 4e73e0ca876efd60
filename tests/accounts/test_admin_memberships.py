"""Teams and memberships in the back-offices: owners manage their team's people."""

import pytest

from accounts.models import Membership, Role
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD = "/operator/accounts/membership/add/"


def test_owner_adds_an_existing_account_by_email(client, member_factory):
    team = TeamFactory()
    client.force_login(member_factory(team, Role.OWNER))
    newcomer = UserFactory(email="newcomer@example.com")
    response = client.post(ADD, {"email": "Newcomer@example.com", "team": team.pk, "role": "installer"})
    assert response.status_code == 302
    assert Membership.objects.get(user=newcomer, team=team).role == Role.INSTALLER


def test_adding_an_unknown_email_says_what_to_do(client, member_factory):
    team = TeamFactory()
    client.force_login(member_factory(team, Role.OWNER))
    response = client.post(ADD, {"email": "nobody@example.com", "team": team.pk, "role": "viewer"})
    assert "no active account with this e-mail address" in response.content.decode()


def test_owner_cannot_add_people_to_another_team(client, member_factory):
    team, other = TeamFactory(), TeamFactory()
    client.force_login(member_factory(team, Role.OWNER))
    UserFactory(email="x@example.com")
    response = client.post(ADD, {"email": "x@example.com", "team": other.pk, "role": "viewer"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Membership.objects.filter(team=other).exists()


def test_admin_sees_members_but_cannot_manage_them(client, member_factory):
    team = TeamFactory()
    viewer = member_factory(team, Role.VIEWER)
    client.force_login(member_factory(team, Role.ADMIN))
    assert viewer.email in client.get("/operator/accounts/membership/").content.decode()
    assert client.get(ADD).status_code == 403
    membership = Membership.objects.get(user=viewer)
    client.post(f"/operator/accounts/membership/{membership.pk}/change/", {"role": "owner"})
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER


def test_the_last_owner_can_be_neither_demoted_nor_removed(client, member_factory):
    team = TeamFactory()
    owner = member_factory(team, Role.OWNER)
    client.force_login(owner)
    membership = Membership.objects.get(user=owner)
    response = client.post(f"/operator/accounts/membership/{membership.pk}/change/", {"role": "viewer"})
    assert "A team needs an owner" in response.content.decode()
    assert client.post(f"/operator/accounts/membership/{membership.pk}/delete/", {"post": "yes"}).status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_team_page_lists_members_read_only_for_operators(client, member_factory):
    team = TeamFactory()
    installer = member_factory(team, Role.INSTALLER)
    client.force_login(member_factory(team, Role.VIEWER))
    html = client.get(f"/operator/accounts/team/{team.pk}/change/").content.decode()
    assert installer.email in html and 'name="memberships-0-role"' not in html


def test_support_manages_users_and_memberships(client, support_user):
    team = TeamFactory()
    client.force_login(support_user)
    response = client.post("/admin/accounts/user/add/", {"email": "new@example.com", "password1": "Xk9!long-pass",
                                                         "password2": "Xk9!long-pass"})
    assert response.status_code == 302
    user = UserFactory._meta.model.objects.get(email="new@example.com")
    client.post("/admin/accounts/membership/add/", {"user": user.pk, "team": team.pk, "role": "admin"})
    assert Membership.objects.get(user=user, team=team).role == Role.ADMIN
