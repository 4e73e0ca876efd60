"""The monthly performance e-mail (performance/monthly.py) through the
notifications outbox."""

import pytest

from notifications.models import Notification, NotificationKind
from performance.models import MonthlyEmail
from performance.monthly import monthly_emails_send
from performance.rollups import rollups_refresh
from tests.factories import ReportContactFactory, ReportSettingsFactory

from .conftest import at, record, status

pytestmark = pytest.mark.django_db
APRIL_2 = at(6, day=31)  # 2 April 2026, 06:00: March is e-mailed


@pytest.fixture
def contacts(cp):
    settings = ReportSettingsFactory(team=cp.owner, email_updates=True)
    ReportContactFactory(settings=settings, email="ops@example.com", name="Ops")
    ReportContactFactory(settings=settings, email="off@example.com", is_active=False)
    record(status(cp, at(10), "Faulted", 1, "GroundFailure"), status(cp, at(12), "Available", 1))
    rollups_refresh(now=APRIL_2)
    return settings


def test_last_months_figures_go_to_the_active_contacts_once(cp, contacts):
    assert monthly_emails_send(now=APRIL_2) == 1
    assert monthly_emails_send(now=APRIL_2) == 0  # once per team and month

    [mail] = Notification.objects.all()
    assert (mail.kind, mail.recipient_email, mail.team_id) == (NotificationKind.PERFORMANCE, "ops@example.com",
                                                              cp.owner_id)
    uptime = 100 * (2 * 31 * 1440 - 120) / (2 * 31 * 1440)
    assert mail.subject == f"Performance 2026-03: {cp.owner.name} · uptime {uptime:.2f} %"
    assert f"Lowest uptime:\n- {cp.name}: {uptime:.2f} %" in mail.body_text
    assert f"/operator/chargepoints/chargepoint/performance/?team={cp.owner_id}&period=2026-03" in mail.body_text
    assert MonthlyEmail.objects.get().recipients == 1


def test_the_outbox_sends_it(cp, contacts, mailoutbox):
    from notifications.services import notifications_send_many

    monthly_emails_send(now=APRIL_2)
    notifications_send_many(notification_ids=list(Notification.objects.values_list("pk", flat=True)))

    [message] = mailoutbox
    assert message.to == ["Ops <ops@example.com>"] and message.subject.startswith("Performance 2026-03")
    assert Notification.objects.get().status == "sent"


def test_in_danish_for_a_danish_team(cp, contacts):
    cp.owner.language = "da"
    cp.owner.save(update_fields=["language"])

    monthly_emails_send(now=APRIL_2)

    mail = Notification.objects.get()
    assert mail.subject.startswith(f"Ydeevne 2026-03: {cp.owner.name} · oppetid ")
    assert "Laveste oppetid" in mail.body_text and "Alle tal" in mail.body_text


def test_no_email_without_email_updates(cp, contacts):
    contacts.email_updates = False
    contacts.save(update_fields=["email_updates"])

    assert monthly_emails_send(now=APRIL_2) == 0
    assert not Notification.objects.exists()


def test_the_reports_are_the_teams_after_moves_with_its_site_reports(cp, contacts):
    """The figures count the reports about the team's charge points as they
    are now (a charge point moved in brings its reports, one moved away
    takes them) and the site reports of its sites."""
    from chargepoints.assets import charge_point_update
    from reporting.catalogue import Reason, Source
    from tests.factories import ReportFactory, SiteFactory, SupportUserFactory, TeamFactory

    from .conftest import make_charge_point

    support, team, other = SupportUserFactory(), cp.owner, TeamFactory()
    moved_in = make_charge_point(site__team=other)
    moved_away = make_charge_point(site__team=team)
    operated_by_other = make_charge_point(site__team=team)
    for charge_point in (cp, moved_in, moved_away, operated_by_other):
        ReportFactory(charge_point=charge_point, created_at=at(8))
    for site in (cp.site, SiteFactory(team=other)):
        ReportFactory(charge_point=None, site=site, source=Source.SYSTEM, reason=Reason.SITE_OFFLINE,
                      created_at=at(9))

    charge_point_update(charge_point=moved_in, operator=team, by=support)
    charge_point_update(charge_point=moved_away, owner=other, operator=other, site=SiteFactory(team=other),
                        by=support)
    charge_point_update(charge_point=operated_by_other, operator=other, by=support)  # still the team's

    monthly_emails_send(now=APRIL_2)

    # cp, moved_in, operated_by_other and the team's site report.
    assert "Reports: 4, resolved: 0" in Notification.objects.get(team=team).body_text
