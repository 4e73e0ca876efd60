"""gateway/services.py: a team's OCPP connections switch, audited."""

import pytest

from accounts.models import AuditAction, AuditLog, Role
from core.errors import NotAllowed
from gateway.models import TeamGatewaySettings
from gateway.services import gateway_settings_delete, gateway_settings_save
from tests.factories import SupportUserFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_a_teams_admin_switches_connections_off_and_the_audit_log_says_so(member_factory):
    team = TeamFactory()
    admin = member_factory(team, Role.ADMIN)

    settings = gateway_settings_save(settings=TeamGatewaySettings(team=team, connections_enabled=False), by=admin)

    assert TeamGatewaySettings.objects.get(team=team).connections_enabled is False
    audit = AuditLog.objects.get(object_type="gateway.teamgatewaysettings", object_id=str(settings.pk))
    assert (audit.actor, audit.action, audit.team_id) == (admin, AuditAction.CREATE, team.pk)
    assert audit.changes == {"connections_enabled": [None, False]}


def test_a_viewer_or_another_team_cannot_switch_and_nothing_is_written(member_factory):
    team = TeamFactory()
    for actor in (member_factory(team, Role.VIEWER), member_factory(TeamFactory(), Role.ADMIN)):
        with pytest.raises(NotAllowed):
            gateway_settings_save(settings=TeamGatewaySettings(team=team, connections_enabled=False), by=actor)
    assert not TeamGatewaySettings.objects.exists()
    assert not AuditLog.objects.filter(object_type="gateway.teamgatewaysettings").exists()


def test_only_support_deletes_the_settings(member_factory):
    team = TeamFactory()
    settings = TeamGatewaySettings.objects.create(team=team, connections_enabled=False)
    with pytest.raises(NotAllowed):
        gateway_settings_delete(settings=settings, by=member_factory(team, Role.OWNER))

    gateway_settings_delete(settings=settings, by=SupportUserFactory())

    assert not TeamGatewaySettings.objects.exists()
    assert AuditLog.objects.filter(action=AuditAction.DELETE, object_type="gateway.teamgatewaysettings").exists()
