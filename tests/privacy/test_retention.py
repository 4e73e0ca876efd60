"""The retention run erases drivers' personal data a set number of days after
a report is resolved, exactly what docs/privacy.md says and nothing else."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.events import notifications_process_events
from notifications.models import Notification, NotificationKind
from notifications.services import notifications_send_due
from privacy.models import Erasure, ErasureReason, ErasureScope
from privacy.services import privacy_erase_expired, privacy_erase_report
from privacy.tasks import erase_expired_personal_data
from reporting.conversations import InboundEmail, report_open_conversation_by_email
from reporting.models import EventKind, Report, ReportAttachment, ReportEvent, ReportMessage, ReportReporter
from reporting.reporters import Driver, Upload, report_file_by_driver
from reporting.services import report_add_message, report_reopen, report_resolve
from tests.factories import ChargePointFactory, SupportUserFactory

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PRIVACY_DRIVER_DATA_DAYS = 90
    settings.PRIVACY_SUPPORT_EMAIL_DAYS = 180


def _driver_report(name="Mette Hansen", email="mette@example.com", photo=True):
    filing = report_file_by_driver(
        charge_point=ChargePointFactory(),
        reason="broken",
        description=f"The cable is cut, call me on 12 34 56 78 ({name})",
        driver=Driver(name=name, email=email, phone="+45 12 34 56 78"),
        photo=Upload(content=PNG, filename="cable.png", content_type="image/png") if photo else None,
    )
    return filing.report


def _resolved_days_ago(report, days, support):
    report_resolve(report=Report.objects.get(pk=report.pk), by=support, note="Cable replaced.")
    Report.objects.filter(pk=report.pk).update(resolved_at=timezone.now() - timedelta(days=days))
    return Report.objects.get(pk=report.pk)


def test_a_report_resolved_91_days_ago_loses_its_drivers_data_and_one_resolved_89_days_ago_keeps_it(
    django_capture_on_commit_callbacks,
):
    support = SupportUserFactory()
    old = _driver_report(name="Old Driver", email="old@example.com")
    recent = _driver_report(name="Recent Driver", email="recent@example.com")
    _resolved_days_ago(old, 91, support)
    _resolved_days_ago(recent, 89, support)
    photo_name = ReportAttachment.objects.get(report=old).file.name
    storage = ReportAttachment._meta.get_field("file").storage
    assert storage.exists(photo_name)

    with django_capture_on_commit_callbacks(execute=True):
        runs = privacy_erase_expired()

    assert runs[ErasureScope.DRIVER_DATA].erased == 1
    old.refresh_from_db()
    assert (old.reporter_name, old.reporter_email, old.reporter_phone, old.description) == ("", "", "", "")
    reporter = ReportReporter.objects.get(report=old)
    assert (reporter.name, reporter.email, reporter.phone, reporter.phone_digits, reporter.description) == (
        "", "", "", "", ""
    )
    assert not ReportAttachment.objects.filter(report=old).exists()
    assert not storage.exists(photo_name)
    # The report itself stays, with what the figures need.
    assert old.state == "resolved" and old.reason and old.charge_point_id and old.reporter_count == 1

    recent.refresh_from_db()
    assert recent.reporter_email == "recent@example.com"
    assert ReportReporter.objects.get(report=recent).name == "Recent Driver"
    assert ReportAttachment.objects.filter(report=recent).count() == 1


def test_the_timeline_and_the_erasure_record_say_what_went_without_the_values():
    support = SupportUserFactory()
    report = _resolved_days_ago(_driver_report(), 91, support)

    privacy_erase_expired()

    event = ReportEvent.objects.get(report=report, kind=EventKind.PERSONAL_DATA_ERASED)
    assert "Mette" not in event.note and "mette@example.com" not in event.note
    assert "1 contact details" in event.note and "1 photos" in event.note
    erasure = Erasure.objects.get(report=report)
    assert erasure.scope == ErasureScope.DRIVER_DATA and erasure.reason == ErasureReason.RETENTION
    assert erasure.erased_by_label == "Retention policy"
    # Nothing of the driver is left anywhere on the timeline.
    for note in ReportEvent.objects.filter(report=report).values_list("note", flat=True):
        assert "Mette" not in note and "12 34 56 78" not in note


def test_a_repeat_filing_quoted_on_the_timeline_is_erased_too():
    support = SupportUserFactory()
    report = _driver_report(name="First", email="first@example.com", photo=False)
    report_file_by_driver(
        charge_point=report.charge_point, reason=report.reason, description="Still broken, Jonas here",
        driver=Driver(name="Jonas", email="first@example.com"),
    )
    assert Report.objects.get(pk=report.pk).reporter_count == 2
    _resolved_days_ago(report, 91, support)

    privacy_erase_expired()

    notes = " ".join(ReportEvent.objects.filter(report=report).values_list("note", flat=True))
    assert "Jonas" not in notes and "Still broken" not in notes
    assert not ReportReporter.objects.filter(report=report).exclude(name="").exists()


def test_e_mails_sent_to_the_driver_lose_the_address_and_every_e_mail_of_the_report_its_body():
    support = SupportUserFactory()
    report = _driver_report(photo=False)
    report = _resolved_days_ago(report, 91, support)
    notifications_process_events()
    notifications_send_due()
    to_driver = Notification.objects.filter(report=report, kind=NotificationKind.DRIVER_RESOLVED)
    assert to_driver.get().recipient_email == "mette@example.com"

    privacy_erase_expired()

    row = to_driver.get()
    assert row.recipient_email.endswith("@erased.invalid") and row.recipient_name == ""
    assert not Notification.objects.filter(report=report).exclude(body_text="").exists()
    assert not Notification.objects.filter(recipient_email="mette@example.com").exists()


def test_a_report_reopened_after_its_retention_is_left_alone_and_erased_again_after_its_next_resolution():
    support = SupportUserFactory()
    report = _resolved_days_ago(_driver_report(photo=False), 200, support)
    # The first run, 105 days ago: the report was then 95 days past its resolution.
    assert privacy_erase_expired(now=timezone.now() - timedelta(days=105))[ErasureScope.DRIVER_DATA].erased == 1

    report_reopen(report=Report.objects.get(pk=report.pk), by=support, note="Back again.")
    assert privacy_erase_expired()[ErasureScope.DRIVER_DATA].erased == 0
    # Resolved again 10 days ago: its clock started again.
    _resolved_days_ago(report, 10, support)
    assert privacy_erase_expired()[ErasureScope.DRIVER_DATA].erased == 0
    Report.objects.filter(pk=report.pk).update(resolved_at=timezone.now() - timedelta(days=91))
    assert privacy_erase_expired()[ErasureScope.DRIVER_DATA].erased == 1
    assert Erasure.objects.filter(report=report).count() == 2


def test_system_reports_are_never_touched(charge_point):
    from reporting.services import report_create

    report = report_create(charge_point=charge_point, source="system", reason="disconnected",
                           description="Disconnected for 30 minutes.", by=None)
    _resolved_days_ago(report, 400, SupportUserFactory())
    privacy_erase_expired()
    report.refresh_from_db()
    assert report.description == "Disconnected for 30 minutes."
    assert not Erasure.objects.exists()


def _conversation(days, message_id):
    report = report_open_conversation_by_email(
        email=InboundEmail(from_email="sofie@example.com", from_name="Sofie Berg", subject="Charger at the harbour",
                           body="My card was charged twice, Sofie", message_id=message_id,
                           attachments=(Upload(content=b"receipt", filename="receipt.txt",
                                               content_type="text/plain"),))
    )
    support = SupportUserFactory()
    report_add_message(report=report, by=support, sender="support", body="Sorry Sofie, refunded.")
    return _resolved_days_ago(report, days, support)


def test_a_support_conversation_is_erased_after_its_own_setting():
    kept = _conversation(179, "<kept@example.com>")
    erased = _conversation(181, "<erased@example.com>")

    runs = privacy_erase_expired()

    assert runs[ErasureScope.CONVERSATION].erased == 1
    assert set(ReportMessage.objects.filter(report=erased).values_list("body", flat=True)) == {""}
    assert ReportMessage.objects.get(report=erased, sender="driver").author_name == "Driver"
    assert not ReportAttachment.objects.filter(report=erased).exists()
    erased.refresh_from_db()
    assert erased.reporter_email == "" and erased.description == ""
    notes = " ".join(ReportEvent.objects.filter(report=erased).values_list("note", flat=True))
    assert "Sofie" not in notes and "refunded" not in notes
    assert ReportMessage.objects.filter(report=kept).exclude(body="").count() == 2


def test_an_erasure_on_request_is_named_after_the_person_who_did_it():
    support = SupportUserFactory(first_name="Ada", last_name="Support")
    report = _driver_report(photo=False)
    erasure = privacy_erase_report(report_id=report.pk, scope=ErasureScope.DRIVER_DATA,
                                   reason=ErasureReason.REQUEST, by=support)
    assert erasure.reason == ErasureReason.REQUEST
    event = ReportEvent.objects.get(report=report, kind=EventKind.PERSONAL_DATA_ERASED)
    assert event.actor_id == support.pk and "request" in event.note
    report.refresh_from_db()
    assert report.state == "open" and report.reporter_email == ""


def test_the_daily_task_runs_the_retention_and_is_scheduled():
    from django_celery_beat.models import PeriodicTask

    report = _resolved_days_ago(_driver_report(photo=False), 91, SupportUserFactory())
    assert erase_expired_personal_data() == {
        "conversation": {"erased": 0, "left": 0}, "driver_data": {"erased": 1, "left": 0},
        "reviews": {"erased": 0, "left": 0},
    }
    assert Erasure.objects.filter(report=report).exists()
    task = PeriodicTask.objects.get(task="privacy.erase_expired_personal_data")
    assert task.enabled and task.crontab is not None


def test_support_sees_the_erasures_in_the_admin(client):
    support = SupportUserFactory()
    report = _resolved_days_ago(_driver_report(photo=True), 91, support)
    privacy_erase_expired()
    client.force_login(support)
    page = client.get("/admin/privacy/erasure/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"#{report.pk}" in text and "1 contact details, 1 photos" in text


def test_a_webhook_delivery_quoting_an_erased_message_loses_the_quote():
    import json

    from webhooks.models import WebhookDelivery, WebhookEndpoint

    report = _conversation(181, "<hooked@example.com>")
    message_event = ReportEvent.objects.filter(report=report, kind=EventKind.MESSAGE).first()
    endpoint = WebhookEndpoint.objects.create(
        team=ChargePointFactory().owner, url="https://hooks.example.com/in", events=["report.message_added"],
        secret="whsec_dGVzdA==")
    body = {"type": "report.message_added", "timestamp": "2026-11-30T00:00:00Z",
            "data": {"report": {"id": report.pk}, "event": {"id": message_event.pk, "note": message_event.note}}}
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=message_event, event_type="report.message_added",
                                              webhook_id="msg_erasure_test", body=json.dumps(body), status="succeeded")
    assert "Sofie" in delivery.body

    privacy_erase_expired()

    delivery.refresh_from_db()
    assert "Sofie" not in delivery.body and "charged twice" not in delivery.body.lower()
    assert json.loads(delivery.body)["data"]["event"]["note"] == "Message erased."
