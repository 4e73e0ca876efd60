"""The privacy notice on the driver page, linked from every e-mail to a
driver, and one-click unsubscribe (RFC 8058) from drivers' status e-mails."""

import re

import pytest

from notifications.events import notifications_process_events
from notifications.models import Notification, NotificationKind, UnsubscribedAddress
from notifications.services import notifications_send_due
from notifications.services.mail import _message
from notifications.unsubscribe import address_hash, unsubscribe_url
from reporting.conversations import InboundEmail, report_open_conversation_by_email
from reporting.models import Report
from reporting.reporters import Driver, report_file_by_driver
from reporting.services import report_add_message, report_resolve
from tests.factories import ChargePointFactory, SupportUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PRIVACY_CONTROLLER_NAME = "Voltway ApS"
    settings.PRIVACY_CONTROLLER_EMAIL = "privacy@voltway.example"
    settings.PUBLIC_REPORT_BASE_URL = "https://reports.example"


def test_the_notice_names_the_controller_the_retention_and_how_to_ask(client, settings):
    settings.PRIVACY_DRIVER_DATA_DAYS = 60
    page = client.get("/privacy/").content.decode()
    assert "Voltway ApS is responsible" in page
    assert "erased 60 days after the problem is resolved" in page
    assert 'href="mailto:privacy@voltway.example"' in page


def test_the_notice_in_danish(client):
    client.cookies["django_language"] = "da"
    page = client.get("/privacy/").content.decode()
    assert "Voltway ApS er dataansvarlig" in page and "slettes 90 dage efter" in page
    assert "Datatilsynet" in page and "What we keep" not in page


def test_the_driver_page_links_the_notice(client):
    charge_point = ChargePointFactory()
    page = client.get(f"/r/{charge_point.public_code}/").content.decode()
    assert 'href="/privacy/"' in page


def _file(email="mette@example.com"):
    return report_file_by_driver(
        charge_point=ChargePointFactory(), reason="broken", description="Broken screen",
        driver=Driver(name="Mette", email=email),
    ).report


def _resolve(report):
    report_resolve(report=Report.objects.get(pk=report.pk), by=SupportUserFactory())
    notifications_process_events()
    notifications_send_due()


def test_a_status_e_mail_to_a_driver_carries_one_click_unsubscribe_and_the_notice():
    _resolve(_file())
    row = Notification.objects.get(kind=NotificationKind.DRIVER_RESOLVED, recipient_email="mette@example.com")
    assert row.status == "sent"
    message = _message(row, None)  # the e-mail exactly as the sender builds it
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.match(r"<(https://reports\.example/unsubscribe/[^>]+/)>", message.extra_headers["List-Unsubscribe"])
    assert link, message.extra_headers["List-Unsubscribe"]
    assert "mailto:" in message.extra_headers["List-Unsubscribe"]
    assert "https://reports.example/privacy/" in message.body
    assert link.group(1) in message.body


def test_the_one_click_post_unsubscribes_and_no_more_status_e_mails_go(client):
    report = _file()
    url = unsubscribe_url(email="Mette@example.com")
    response = client.post(url.removeprefix("https://reports.example"), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert UnsubscribedAddress.objects.filter(email_hash=address_hash("mette@example.com")).exists()
    assert not UnsubscribedAddress.objects.filter(email_hash__contains="mette").exists()

    _resolve(report)
    assert not Notification.objects.filter(report=report, kind=NotificationKind.DRIVER_RESOLVED).exists()
    # They can still report.
    again = report_file_by_driver(charge_point=ChargePointFactory(), reason="broken", description="x",
                                  driver=Driver(email="mette@example.com"))
    assert again.report.pk


def test_a_get_asks_first_so_a_link_scanner_unsubscribes_nobody(client):
    url = unsubscribe_url(email="mette@example.com").removeprefix("https://reports.example")
    page = client.get(url)
    assert page.status_code == 200 and "Yes, no more e-mails" in page.content.decode()
    assert not UnsubscribedAddress.objects.exists()
    done = client.post(url)
    assert "you will get no more e-mails" in done.content.decode()
    assert UnsubscribedAddress.objects.count() == 1
    client.post(url)  # twice is fine
    assert UnsubscribedAddress.objects.count() == 1


def test_a_forged_link_is_refused(client):
    assert client.post("/unsubscribe/not-a-token/", {"List-Unsubscribe": "One-Click"}).status_code == 404
    assert client.get("/unsubscribe/abc:def/").status_code == 404
    assert not UnsubscribedAddress.objects.exists()


def test_supports_answer_in_a_conversation_links_the_notice():
    report = report_open_conversation_by_email(email=InboundEmail(
        from_email="sofie@example.com", from_name="Sofie", subject="Refund", body="Charged twice",
        message_id="<refund@example.com>"))
    report_add_message(report=report, by=SupportUserFactory(), sender="support", body="Refunded.")
    notifications_process_events()
    row = Notification.objects.get(report=report, kind=NotificationKind.DRIVER_MESSAGE)
    assert "https://reports.example/privacy/" in row.body_text
