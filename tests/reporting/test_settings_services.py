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


def test_an_admin_switches_the_team_to_digests_and_the_change_is_audited(member_factory):
    team = TeamFactory()
    admin = member_factory(team, Role.ADMIN)

    report_settings_update(team=team, email_updates=True, contacts=[LARS], by=admin,
                           delivery="digest", digest_minutes=30, burst_threshold=5)

    row = ReportSettings.objects.get(team=team)
    assert (row.delivery, row.digest_minutes, row.burst_threshold) == ("digest", 30, 5)
    changes = AuditLog.objects.get(object_type="reporting.reportsettings").changes
    assert changes["delivery"] == {"before": "immediate", "after": "digest"}
    assert changes["digest_minutes"] == {"before": 15, "after": 30}


@pytest.mark.parametrize("bad", [{"delivery": "weekly"}, {"digest_minutes": 0}, {"digest_minutes": 1441},
                                 {"burst_threshold": 0}])
def test_a_delivery_setting_out_of_range_is_refused_and_nothing_changes(member_factory, bad):
    team = TeamFactory()
    with pytest.raises(Invalid):
        report_settings_update(team=team, email_updates=False, contacts=[LARS], by=member_factory(team, Role.ADMIN),
                               **bad)
    row = ReportSettings.objects.get(team=team)
    assert (row.email_updates, row.delivery, row.digest_minutes) == (True, "immediate", 15)
