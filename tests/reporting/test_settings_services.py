"""reporting/settings_services.py: report settings, one rule each, audited."""

import pytest

from accounts.models import AuditLog, Role, Team
from core.errors import Invalid, NotAllowed
from reporting.models import ReportContact, ReportSettings
from reporting.settings_services import report_settings_update
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

LARS = {"name": "Lars", "email": "lars@example.com", "phone": "", "is_active": True}


def test_an_admin_replaces_the_contacts_and_the_change_is_audited(member_factory):
    team = TeamFactory()
    admin = member_factory(team, Role.ADMIN)
    report_settings_update(team=team, email_updates=False, contacts=[LARS], by=admin)
    row = AuditLog.objects.get(object_type="reporting.reportsettings")
    assert (row.actor, row.team) == (admin, team)
    assert row.changes == {"contacts": {"before": [], "after": ["Lars <lars@example.com>"]},
                           "email_updates": {"before": True, "after": False}}


def test_an_installer_may_not_change_them(member_factory):
    team = TeamFactory()
    with pytest.raises(NotAllowed):
        report_settings_update(team=team, email_updates=False, contacts=[], by=member_factory(team, Role.INSTALLER))
    assert ReportSettings.objects.get(team=team).email_updates is True


def test_a_contact_e_mail_appears_once_whatever_its_case(member_factory):
    team = TeamFactory()
    with pytest.raises(Invalid, match="listed twice"):
        report_settings_update(team=team, email_updates=True, by=member_factory(team, Role.ADMIN),
                               contacts=[LARS, {**LARS, "email": "LARS@example.com"}])
    assert not ReportContact.objects.exists()


def test_opening_the_settings_list_writes_nothing(client, support_user):
    Team.objects.create(name="Made before this release", country="DK")  # no settings row
    client.force_login(support_user)
    assert client.get("/admin/reporting/reportsettings/").status_code == 200
    assert not ReportSettings.objects.filter(team__name="Made before this release").exists()
