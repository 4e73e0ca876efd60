from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiKey, Role
from accounts.services import (
    ApiKeyError,
    api_key_authenticate,
    api_key_create,
    api_key_hash,
    api_key_revoke,
    api_key_touch,
)
from tests.factories import SupportUserFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_create_stores_only_a_hash_and_returns_the_raw_key_once(team, support_user):
    key, raw = api_key_create(team=team, name="CSMS production", role=Role.INSTALLER, by=support_user)
    assert raw.startswith(f"cpr_{key.prefix}_")
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.hashed_key == api_key_hash(raw)
    assert raw not in {stored.hashed_key, stored.prefix, stored.name}
    assert stored.created_by == support_user


def test_the_key_is_an_actor_with_its_one_team_and_role(team, support_user):
    key, _ = api_key_create(team=team, name="BI", role=Role.VIEWER, by=support_user)
    assert key.is_support is False
    assert key.is_authenticated is True
    assert key.roles_by_team() == {team.pk: Role.VIEWER}
    assert key.actor_label == "API key 'BI'"


def test_authenticate_accepts_the_raw_key_and_records_the_use(team, support_user):
    key, raw = api_key_create(team=team, name="App", role=Role.ADMIN, by=support_user)
    assert api_key_authenticate(raw_key=raw) == key
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


@pytest.mark.parametrize("mangle", [lambda r: r + "x", lambda r: r[:-1], lambda r: "cpr__" + r[4:], lambda r: "nope"])
def test_authenticate_refuses_a_wrong_key(team, support_user, mangle):
    _, raw = api_key_create(team=team, name="App", role=Role.ADMIN, by=support_user)
    assert api_key_authenticate(raw_key=mangle(raw)) is None


def test_a_revoked_key_no_longer_authenticates(team, support_user):
    key, raw = api_key_create(team=team, name="App", role=Role.ADMIN, by=support_user)
    api_key_revoke(api_key=key, by=support_user)
    assert key.revoked_at is not None and key.revoked_by == support_user
    assert api_key_authenticate(raw_key=raw) is None


def test_revoking_twice_keeps_the_first_revocation_time(team, support_user):
    key, _ = api_key_create(team=team, name="App", role=Role.ADMIN, by=support_user)
    first = api_key_revoke(api_key=key, by=support_user).revoked_at
    assert api_key_revoke(api_key=key, by=support_user).revoked_at == first


def test_last_used_is_written_at_most_once_a_minute(team, support_user, django_assert_num_queries):
    key, _ = api_key_create(team=team, name="App", role=Role.ADMIN, by=support_user)
    now = timezone.now()
    api_key_touch(api_key=key, now=now)
    with django_assert_num_queries(0):
        api_key_touch(api_key=key, now=now + timedelta(seconds=30))
    stale_copy = ApiKey.objects.get(pk=key.pk)
    stale_copy.last_used_at = now - timedelta(hours=1)  # another process's old read
    api_key_touch(api_key=stale_copy, now=now + timedelta(seconds=30))
    assert ApiKey.objects.get(pk=key.pk).last_used_at == now  # the conditional UPDATE did nothing
    api_key_touch(api_key=key, now=now + timedelta(seconds=61))
    assert ApiKey.objects.get(pk=key.pk).last_used_at == now + timedelta(seconds=61)


def test_a_team_admin_creates_and_revokes_keys_of_their_team(team, member_factory):
    admin = member_factory(team, Role.ADMIN)
    key, _ = api_key_create(team=team, name="App", role=Role.INSTALLER, by=admin)
    api_key_revoke(api_key=key, by=admin)
    assert key.revoked_at is not None


@pytest.mark.parametrize("role", [Role.VIEWER, Role.INSTALLER])
def test_members_below_admin_cannot_create_keys(team, member_factory, role):
    with pytest.raises(ApiKeyError):
        api_key_create(team=team, name="App", role=Role.VIEWER, by=member_factory(team, role))


def test_an_admin_cannot_create_or_revoke_keys_of_another_team(team, member_factory, support_user):
    other = TeamFactory()
    admin = member_factory(team, Role.ADMIN)
    with pytest.raises(ApiKeyError):
        api_key_create(team=other, name="App", role=Role.VIEWER, by=admin)
    key, _ = api_key_create(team=other, name="App", role=Role.VIEWER, by=support_user)
    with pytest.raises(ApiKeyError):
        api_key_revoke(api_key=key, by=admin)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None


def test_a_key_cannot_hold_a_role_above_its_creators(team, member_factory):
    admin = member_factory(team, Role.ADMIN)
    with pytest.raises(ApiKeyError) as error:
        api_key_create(team=team, name="App", role=Role.OWNER, by=admin)
    assert error.value.field == "role"


def test_support_may_create_keys_of_any_role_for_any_team():
    key, _ = api_key_create(team=TeamFactory(), name="App", role=Role.OWNER, by=SupportUserFactory())
    assert key.role == Role.OWNER


def test_a_key_needs_a_name(team, support_user):
    with pytest.raises(ApiKeyError) as error:
        api_key_create(team=team, name="  ", role=Role.VIEWER, by=support_user)
    assert error.value.field == "name"
