"""notifications/admin.py: support's outbox with a confirmed retry, and each
team's own notifications in /operator/ and on the report's page."""

import re

import pytest
from django.core import mail
from django.test import RequestFactory

from accounts.admin_sites import support_site
from accounts.models import AuditLog, Role
from notifications.admin import NotificationInline
from notifications.models import Notification, NotificationStatus
from reporting import services as reporting
from reporting.catalogue import Party, Reason, Source

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notifications/notification/"


@pytest.fixture
def report(fleet, django_capture_on_commit_callbacks):
    """A report e-mailed to the operator's contacts, then assigned to the owner."""
    with django_capture_on_commit_callbacks(execute=True):
        report = reporting.report_create(charge_point=fleet.charge_point, source=Source.USER, reason=Reason.BROKEN)
        reporting.report_assign(report=report, party=Party.OWNER, by=None)
    assert Notification.objects.filter(report=report).count() == 4
    return report


def fail(notification):
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.FAILED, attempts=15, last_error="AnymailAPIError: 503"
    )


def test_support_sees_the_outbox_filtered_by_status(client, support_user, report):
    failed = Notification.objects.filter(report=report).first()
    fail(failed)
    client.force_login(support_user)

    everything = client.get(CHANGELIST)
    only_failed = client.get(CHANGELIST, {"status__exact": "failed"})
    detail = client.get(f"{CHANGELIST}{failed.pk}/change/")

    assert everything.status_code == 200
    assert everything.context["cl"].result_count == 4
    assert [n.pk for n in only_failed.context["cl"].result_list] == [failed.pk]
    assert detail.status_code == 200
    assert "AnymailAPIError: 503" in detail.content.decode()


def test_the_outbox_list_reads_like_an_inbox(client, support_user, report):
    """The demo's local inbox: each row says what the e-mail is about and in which language."""
    client.force_login(support_user)
    html = client.get(CHANGELIST).content.decode()
    for notification in Notification.objects.filter(report=report):
        assert notification.subject and notification.subject in html
    assert re.search(r'<td class="field-language[^"]*"[^>]*>en</td>', html)


def test_operators_cannot_open_the_support_outbox(client, fleet, member_factory, report):
    client.force_login(member_factory(fleet.operator, Role.OWNER))

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_retrying_a_failed_email_asks_first_then_sends_it_once(
    client, support_user, report, django_capture_on_commit_callbacks
):
    failed, sent = Notification.objects.filter(report=report).order_by("id")[:2]
    fail(failed)
    mail.outbox.clear()
    client.force_login(support_user)
    selection = {"action": "retry_failed", "_selected_action": [failed.pk, sent.pk]}

    confirmation = client.post(CHANGELIST, selection)

    assert confirmation.status_code == 200
    assert "Yes, retry them" in confirmation.content.decode()
    failed.refresh_from_db()
    assert failed.status == NotificationStatus.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(CHANGELIST, {**selection, "confirm": "yes"}, follow=True)

    assert "1 e-mail(s) queued to be sent again. 1 selected e-mail(s) had not failed" in done.content.decode()
    failed.refresh_from_db()
    assert failed.status == NotificationStatus.SENT
    assert [m.to for m in mail.outbox] == [[failed.recipient]]
    # Who asked, and after which error, is in the audit log; the e-mail kept its Message-ID.
    [entry] = AuditLog.objects.filter(object_type="notifications.notification", object_id=str(failed.pk))
    assert entry.actor == support_user
    assert entry.changes["status"] == {"before": "failed", "after": "pending"}
    assert entry.note.startswith("Sent again after: ")
    assert mail.outbox[0].extra_headers["Message-ID"] == failed.email_message_id


def test_operators_see_only_their_own_teams_notifications(client, fleet, member_factory, report):
    client.force_login(member_factory(fleet.owner, Role.VIEWER))

    response = client.get("/operator/notifications/notification/")

    assert response.status_code == 200
    rows = response.context["cl"].result_list
    assert {n.team_id for n in rows} == {fleet.owner.pk}
    assert len(rows) == 2
    other = Notification.objects.filter(team=fleet.operator).first()
    assert client.get(f"/operator/notifications/notification/{other.pk}/change/").status_code in (302, 403, 404)


def test_the_report_inline_shows_a_member_their_teams_emails_and_support_all(
    fleet, member_factory, support_user, report
):
    inline = NotificationInline(Notification, support_site)
    request = RequestFactory().get("/")

    request.user = member_factory(fleet.operator, Role.INSTALLER)
    member_rows = inline.get_queryset(request).filter(report=report)
    request.user = support_user
    support_rows = inline.get_queryset(request).filter(report=report)

    assert {n.team_id for n in member_rows} == {fleet.operator.pk}
    assert member_rows.count() == 2
    assert support_rows.count() == 4
    assert inline.has_view_permission(request) is True
    assert inline.has_add_permission(request) is False
    assert inline.has_change_permission(request) is False


def test_the_report_page_lists_the_members_own_teams_emails(client, fleet, member_factory, report):
    client.force_login(member_factory(fleet.owner, Role.ADMIN))

    response = client.get(f"/operator/reporting/report/{report.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "e-mail notifications" in page.lower()
    assert "olivia@owner.example" in page
    assert "ida@operator.example" not in page


def test_the_link_in_the_email_opens_the_report_in_the_operator_back_office(
    client, fleet, member_factory, report
):
    link = Notification.objects.filter(report=report, team=fleet.operator).first().body_text
    url = next(line.split(": ", 1)[1] for line in link.splitlines() if line.startswith("Åbn rapporten: "))
    assert url == f"https://reports.example.com/operator/reporting/report/{report.pk}/change/"
    client.force_login(member_factory(fleet.operator, Role.INSTALLER))

    assert client.get(url.removeprefix("https://reports.example.com")).status_code == 200
