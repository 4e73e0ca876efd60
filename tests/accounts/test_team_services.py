"""accounts/team_services.py: teams and memberships, each change audited."""

import pytest

from accounts.models import ApiKey, AuditLog, Membership, Role
from accounts.services import api_key_create
from accounts.team_services import (
    membership_add,
    membership_change_role,
    membership_remove,
    team_create,
    team_update,
)
from core.errors import Conflict, Invalid, NotAllowed
from reporting.models import ReportSettings
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_support_creates_a_team_with_its_report_settings_and_an_audit_row(support_user):
    team = team_create(name="Voltway", country="DK", by=support_user)
    assert ReportSettings.objects.get(team=team).email_updates is True
    row = AuditLog.objects.get(object_type="accounts.team", object_id=str(team.pk))
    assert (row.action, row.actor, row.team) == ("create", support_user, team)
    assert row.changes["name"] == {"before": None, "after": "Voltway"}


def test_an_operator_cannot_create_a_team(member_factory):
    owner = member_factory(TeamFactory(), Role.OWNER)
    with pytest.raises(NotAllowed):
        team_create(name="Mine", country="DK", by=owner)


def test_an_owner_renames_the_team_but_cannot_change_its_country(member_factory):
    team = TeamFactory(country="DK")
    owner = member_factory(team, Role.OWNER)
    team_update(team=team, name="Renamed", by=owner)
    assert AuditLog.objects.get(action="update").changes == {"name": {"before": team.name, "after": "Renamed"}}
    with pytest.raises(NotAllowed):
        team_update(team=team, country="NL", by=owner)
    team.refresh_from_db()
    assert (team.name, team.country) == ("Renamed", "DK")


def test_owner_adds_changes_and_removes_a_member_each_audited(member_factory):
    team = TeamFactory()
    owner = member_factory(team, Role.OWNER)
    newcomer = UserFactory(email="new@example.com")
    membership = membership_add(team=team, email="NEW@example.com", role=Role.INSTALLER, by=owner)
    membership_change_role(membership=membership, role=Role.ADMIN, by=owner)
    membership_remove(membership=membership, by=owner)
    assert not Membership.objects.filter(user=newcomer).exists()
    rows = list(AuditLog.objects.filter(object_type="accounts.membership").order_by("id"))
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert rows[1].changes == {"role": {"before": "installer", "after": "admin"}}
    assert all(r.team_id == team.pk and r.actor == owner for r in rows)


def test_no_one_is_a_member_twice(member_factory):
    team = TeamFactory()
    owner = member_factory(team, Role.OWNER)
    with pytest.raises(Invalid, match="already a member"):
        membership_add(team=team, user=owner, role=Role.VIEWER, by=owner)


def test_an_admin_cannot_manage_members(member_factory):
    team = TeamFactory()
    admin = member_factory(team, Role.ADMIN)
    with pytest.raises(NotAllowed):
        membership_add(team=team, email=UserFactory().email, role=Role.VIEWER, by=admin)


def test_the_last_owner_is_neither_demoted_nor_removed(member_factory, support_user):
    team = TeamFactory()
    owner = member_factory(team, Role.OWNER)
    membership = Membership.objects.get(user=owner)
    with pytest.raises(Invalid, match="needs an owner"):
        membership_change_role(membership=membership, role=Role.VIEWER, by=support_user)
    with pytest.raises(Conflict, match="needs an owner"):
        membership_remove(membership=membership, by=support_user)
    assert Membership.objects.get(pk=membership.pk).role == Role.OWNER


def test_two_owners_removing_each_other_leave_one(member_factory):
    """The second removal reads the locked rows: its actor is no longer an
    owner (not even a member), whatever the actor's stale object says."""
    team = TeamFactory()
    first, second = member_factory(team, Role.OWNER), member_factory(team, Role.OWNER)
    second.roles_by_team()  # the second owner's page was loaded while still an owner
    membership_remove(membership=Membership.objects.get(user=second), by=first)
    with pytest.raises(NotAllowed):
        membership_remove(membership=Membership.objects.get(user=first), by=second)
    assert list(Membership.objects.filter(team=team).values_list("user_id", "role")) == [(first.pk, Role.OWNER)]


def test_removing_a_member_revokes_the_keys_they_made_for_that_team_only(member_factory):
    team, other = TeamFactory(), TeamFactory()
    owner = member_factory(team, Role.OWNER)
    admin = member_factory(team, Role.ADMIN)
    Membership.objects.create(user=admin, team=other, role=Role.ADMIN)
    key, _ = api_key_create(team=team, name="CSMS", role=Role.ADMIN, by=admin)
    kept, _ = api_key_create(team=other, name="BI", role=Role.VIEWER, by=admin)
    membership_remove(membership=Membership.objects.get(user=admin, team=team), by=owner)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert ApiKey.objects.get(pk=kept.pk).revoked_at is None
    revoked = AuditLog.objects.get(object_type="accounts.apikey", action="revoke")
    assert (revoked.object_id, revoked.actor, revoked.team) == (str(key.pk), owner, team)
    assert admin.email in revoked.note
