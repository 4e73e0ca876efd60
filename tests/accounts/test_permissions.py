"""accounts/permissions.py and the for_user scoping every screen relies on."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import Role, Team, User
from accounts.permissions import Capability, can_on_charge_point, role_allows
from chargepoints.models import ChargePoint, Site
from reporting.models import Report
from tests.factories import ChargePointFactory, ReportFactory, SiteFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role, allowed",
    [
        (Role.VIEWER, {Capability.VIEW}),
        (Role.INSTALLER, {Capability.VIEW, Capability.COMMENT, Capability.RESOLVE, Capability.VIEW_DRIVER_CONTACT,
                          Capability.REMOTE_COMMAND}),
        (
            Role.ADMIN,
            {Capability.VIEW, Capability.COMMENT, Capability.RESOLVE, Capability.ASSIGN, Capability.EDIT_ASSETS,
             Capability.VIEW_AUDIT, Capability.VIEW_DRIVER_CONTACT, Capability.REMOTE_COMMAND},
        ),
        (Role.OWNER, set(Capability)),
    ],
)
def test_each_role_holds_exactly_its_capabilities(role, allowed):
    assert {c for c in Capability if role_allows(role, c)} == allowed


@pytest.fixture
def world():
    """Two teams; team B operates a charge point that team C owns."""
    a, b, c = TeamFactory(name="A"), TeamFactory(name="B"), TeamFactory(name="C")
    cp_a = ChargePointFactory(site=SiteFactory(team=a), owner=a, operator=a)
    cp_bc = ChargePointFactory(site=SiteFactory(team=c), owner=c, operator=b)
    return {
        "teams": (a, b, c),
        "cp_a": cp_a,
        "cp_bc": cp_bc,
        "report_a": ReportFactory(charge_point=cp_a),
        "report_bc": ReportFactory(charge_point=cp_bc),
    }


def test_member_sees_only_their_own_teams_data(world, member_factory):
    a, b, c = world["teams"]
    user = member_factory(a, Role.VIEWER)

    assert list(Team.objects.for_user(user)) == [a]
    assert list(ChargePoint.objects.for_user(user)) == [world["cp_a"]]
    assert list(Site.objects.for_user(user)) == [world["cp_a"].site]
    assert list(Report.objects.for_user(user)) == [world["report_a"]]


def test_operator_sees_the_charge_points_it_operates_for_another_owner(world, member_factory):
    a, b, c = world["teams"]
    operator_user = member_factory(b, Role.INSTALLER)
    owner_user = member_factory(c, Role.VIEWER)

    for user in (operator_user, owner_user):
        assert list(ChargePoint.objects.for_user(user)) == [world["cp_bc"]]
        assert list(Report.objects.for_user(user)) == [world["report_bc"]]
        # the site belongs to C but holds a charge point B operates
        assert list(Site.objects.for_user(user)) == [world["cp_bc"].site]


def test_support_sees_everything_and_strangers_see_nothing(world, support_user):
    assert Report.objects.for_user(support_user).count() == 2
    assert ChargePoint.objects.for_user(AnonymousUser()).count() == 0
    assert Report.objects.for_user(AnonymousUser()).count() == 0
    nobody = User.objects.create_user("nobody@example.com", "x")
    assert Team.objects.for_user(nobody).count() == 0


def test_staff_user_outside_the_support_group_is_not_support(world):
    staff = User.objects.create_user("staff@example.com", "x", is_staff=True)
    assert not staff.is_support
    assert Report.objects.for_user(staff).count() == 0


def test_role_counts_on_charge_points_the_team_owns_or_operates(world, member_factory):
    a, b, c = world["teams"]
    b_admin = member_factory(b, Role.ADMIN)
    assert can_on_charge_point(b_admin, Capability.ASSIGN, charge_point=world["cp_bc"])
    assert not can_on_charge_point(b_admin, Capability.VIEW, charge_point=world["cp_a"])
