"""chargepoints/assets.py: who may change what on a charge point (finding 2),
and the audit rows."""

import pytest

from accounts.models import AuditLog, Role
from chargepoints.assets import charge_point_create, charge_point_delete, charge_point_update, site_update
from chargepoints.models import ChargePoint, Heartbeat
from core.errors import Conflict, Invalid, NotAllowed
from tests.factories import ChargePointFactory, ReportFactory, SiteFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(member_factory):
    """A charge point owned by one team and operated by another, with an admin in each."""
    owner, operator = TeamFactory(), TeamFactory()
    cp = ChargePointFactory(site__team=owner, owner=owner, operator=operator)
    return cp, member_factory(owner, Role.ADMIN), member_factory(operator, Role.ADMIN)


def test_the_operator_cannot_change_the_owner_or_the_operator(shared):
    cp, owner_admin, operator_admin = shared
    with pytest.raises(NotAllowed, match="support"):
        charge_point_update(charge_point=cp, owner=cp.operator, by=operator_admin)
    with pytest.raises(NotAllowed, match="support"):
        charge_point_update(charge_point=cp, operator=cp.owner, by=owner_admin)
    cp.refresh_from_db()
    assert (cp.owner_id, cp.operator_id) != (cp.operator_id, cp.operator_id)


def test_the_operator_cannot_move_it_to_another_site(shared):
    cp, owner_admin, operator_admin = shared
    other_site = SiteFactory(team=cp.owner)
    with pytest.raises(NotAllowed, match="owner team decides"):
        charge_point_update(charge_point=cp, site=other_site, by=operator_admin)
    charge_point_update(charge_point=cp, site=other_site, by=owner_admin)
    assert ChargePoint.objects.get(pk=cp.pk).site == other_site


def test_the_site_must_belong_to_the_owner(shared):
    cp, owner_admin, operator_admin = shared
    with pytest.raises(Invalid, match="owner team"):
        charge_point_update(charge_point=cp, site=SiteFactory(team=cp.operator), by=owner_admin)
    with pytest.raises(Invalid, match="owner team"):
        charge_point_create(site=SiteFactory(team=cp.operator), owner=cp.owner, operator=cp.owner,
                            name="X", ocpp_id="X-1", by=owner_admin)


def test_the_operator_cannot_register_a_charge_point_for_the_owner(shared):
    cp, owner_admin, operator_admin = shared
    with pytest.raises(NotAllowed):
        charge_point_create(site=cp.site, owner=cp.owner, operator=cp.operator, name="X", ocpp_id="X-2",
                            by=operator_admin)


def test_support_moves_it_to_another_operator_and_the_move_is_audited(shared, support_user):
    cp, owner_admin, operator_admin = shared
    new_operator = TeamFactory()
    charge_point_update(charge_point=cp, operator=new_operator, by=support_user)
    row = AuditLog.objects.get(object_type="chargepoints.chargepoint", action="move")
    assert row.changes == {"operator": {"before": operator_admin.memberships.get().team_id,
                                        "after": new_operator.pk}}
    assert row.former_team_id == operator_admin.memberships.get().team_id


def test_the_operator_edits_the_identity_and_it_is_audited(shared):
    cp, owner_admin, operator_admin = shared
    charge_point_update(charge_point=cp, firmware_version="7.1", by=operator_admin)
    row = AuditLog.objects.get(object_type="chargepoints.chargepoint")
    assert (row.action, row.actor, row.changes) == (
        "update", operator_admin, {"firmware_version": {"before": "6.4.0", "after": "7.1"}}
    )


def test_delete_never_takes_history_with_it(shared):
    cp, owner_admin, operator_admin = shared
    with pytest.raises(NotAllowed):
        charge_point_delete(charge_point=cp, by=operator_admin)
    Heartbeat.objects.create(charge_point=cp, event_id="hb-1", occurred_at=cp.state_since)
    with pytest.raises(Conflict, match="heartbeats"):
        charge_point_delete(charge_point=cp, by=owner_admin)
    ReportFactory(charge_point=cp)
    with pytest.raises(Conflict, match="reports"):
        charge_point_delete(charge_point=cp, by=owner_admin)
    assert ChargePoint.objects.filter(pk=cp.pk).exists() and Heartbeat.objects.filter(charge_point=cp).exists()


def test_a_charge_point_without_history_is_deleted_with_an_audit_row(shared):
    cp, owner_admin, operator_admin = shared
    charge_point_delete(charge_point=cp, by=owner_admin)
    assert not ChargePoint.objects.filter(pk=cp.pk).exists()
    assert AuditLog.objects.get(action="delete").changes["ocpp_id"]["before"] == cp.ocpp_id


def test_a_site_goes_to_another_team_by_support_only(member_factory, support_user):
    site = SiteFactory()
    admin = member_factory(site.team, Role.ADMIN)
    other = TeamFactory()
    with pytest.raises(NotAllowed):
        site_update(site=site, team=other, by=admin)
    site_update(site=site, team=other, by=support_user)
    assert AuditLog.objects.get(action="move").former_team_id != other.pk


def test_registering_or_moving_a_charge_point_marks_it_for_the_health_engine(shared, support_user):
    from chargepoints.models import HealthMark

    cp, owner_admin, _operator_admin = shared
    new = charge_point_create(site=cp.site, owner=cp.owner, operator=cp.owner, name="New", ocpp_id="NEW-1",
                              by=owner_admin)
    charge_point_update(charge_point=cp, firmware_version="7.2", by=owner_admin)  # identity only: no mark
    assert list(HealthMark.objects.values_list("charge_point_id", flat=True)) == [new.pk]

    charge_point_update(charge_point=cp, operator=TeamFactory(), by=support_user)

    assert sorted(HealthMark.objects.values_list("charge_point_id", flat=True)) == sorted([new.pk, cp.pk])
