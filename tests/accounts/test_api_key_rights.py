"""Finding 4: a key never does more than its creator may do now."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Role
from accounts.services import api_key_create
from accounts.team_services import membership_change_role, membership_remove
from tests.factories import ChargePointFactory, ReportFactory, TeamFactory

pytestmark = pytest.mark.django_db


def client(raw):
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return c


@pytest.fixture
def setup(member_factory):
    team = TeamFactory(country="DK")
    owner = member_factory(team, Role.OWNER)
    admin = member_factory(team, Role.ADMIN)
    cp = ChargePointFactory(site__team=team)
    key, raw = api_key_create(team=team, name="CSMS", role=Role.ADMIN, by=admin)
    return team, owner, admin, cp, key, raw


def test_a_key_of_a_creator_demoted_to_viewer_can_no_longer_assign_or_edit(setup):
    team, owner, admin, cp, key, raw = setup
    report = ReportFactory(charge_point=cp)
    membership_change_role(membership=Membership.objects.get(user=admin), role=Role.VIEWER, by=owner)
    api = client(raw)
    assert api.post(f"/api/v1/reports/{report.pk}/assign/", {"party": "owner"}, format="json").status_code == 403
    assert api.patch(f"/api/v1/charge-points/{cp.pk}/", {"name": "X"}, format="json").status_code == 403
    assert api.get(f"/api/v1/reports/{report.pk}/").status_code == 200  # still reads, as its creator may
    cp.refresh_from_db()
    assert cp.name != "X"


def test_a_key_of_a_removed_creator_is_revoked_and_reads_nothing(setup):
    team, owner, admin, cp, key, raw = setup
    assert client(raw).get("/api/v1/charge-points/").status_code == 200
    membership_remove(membership=Membership.objects.get(user=admin), by=owner)
    assert client(raw).get("/api/v1/charge-points/").status_code == 401


def test_a_key_of_a_creator_who_left_reads_nothing_even_unrevoked(setup):
    team, owner, admin, cp, key, raw = setup
    Membership.objects.filter(user=admin).delete()  # not through the service: no revocation
    body = client(raw).get("/api/v1/charge-points/").json()
    assert body["results"] == []
    assert client(raw).get(f"/api/v1/charge-points/{cp.pk}/").status_code == 404


def test_the_effective_role_is_the_lower_of_key_and_creator(setup):
    team, owner, admin, cp, key, raw = setup
    membership_change_role(membership=Membership.objects.get(user=admin), role=Role.INSTALLER, by=owner)
    key.refresh_from_db()
    assert key.effective_role == Role.INSTALLER
    report = ReportFactory(charge_point=cp)
    assert client(raw).post(f"/api/v1/reports/{report.pk}/resolve/", {"note": "ok"}, format="json").status_code == 200
