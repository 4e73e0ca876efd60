"""notifications/webhooks/urls.py: the providers' tracking webhooks record
delivered, bounced and complained on the row and the report's timeline."""

import base64
import json

import pytest
from django.core import mail

from notifications.models import DeliveryStatus, Notification
from reporting import services as reporting
from reporting.catalogue import Reason, Source
from reporting.models import EventKind, ReportEvent

pytestmark = pytest.mark.django_db

URL = "/anymail/postmark/tracking/"
SECRET = "postmark:correct-webhook-secret"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}


@pytest.fixture
def sent(fleet, django_capture_on_commit_callbacks) -> Notification:
    """The e-mail to Ida about a new report, sent."""
    fleet.operator_contacts[1].delete()
    with django_capture_on_commit_callbacks(execute=True):
        report = reporting.report_create(charge_point=fleet.charge_point, source=Source.USER, reason=Reason.BROKEN)
    assert len(mail.outbox) == 1
    notification = Notification.objects.get(report=report)
    # A provider's id looks like this; the test backend numbers its outbox.
    Notification.objects.filter(pk=notification.pk).update(message_id="883953f4-6105-42a2-a16a-77a8eac79483")
    notification.refresh_from_db()
    return notification


def post(client, payload: dict, secret: str | None = SECRET):
    headers = {}
    if secret is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(secret.encode()).decode()
    return client.post(URL, data=json.dumps(payload), content_type="application/json", **headers)


def delivery(notification, **extra):
    return {
        "RecordType": "Delivery",
        "MessageID": notification.message_id,
        "Recipient": notification.recipient_email,
        "DeliveredAt": "2026-11-23T10:15:00Z",
        "Details": "smtp;250 2.0.0 OK",
        "Metadata": {},
        **extra,
    }


def bounce(notification, kind="HardBounce"):
    return {
        "RecordType": "SpamComplaint" if kind == "SpamComplaint" else "Bounce",
        "ID": 4323372036854775807,
        "Type": kind,
        "MessageID": notification.message_id,
        "Email": notification.recipient_email.upper(),
        "BouncedAt": "2026-11-23T10:16:00Z",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Metadata": {},
    }


def notified_notes(notification) -> list[str]:
    return list(
        ReportEvent.objects.filter(report_id=notification.report_id, kind=EventKind.NOTIFIED)
        .order_by("id")
        .values_list("note", flat=True)
    )


def test_delivery_is_recorded_on_the_row_and_the_timeline(client, sent):
    response = post(client, delivery(sent))

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.DELIVERED
    assert sent.delivery_at.isoformat() == "2026-11-23T10:15:00+00:00"
    assert notified_notes(sent)[-1] == (
        "The e-mail to Ida Operatør (Operatør ApS) about the new report was delivered."
    )


def test_a_bounce_is_recorded_with_the_providers_reason(client, sent):
    assert post(client, bounce(sent)).status_code == 200

    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.BOUNCED
    assert "550 5.1.1" in sent.delivery_detail
    assert notified_notes(sent)[-1].startswith(
        "The e-mail to Ida Operatør (Operatør ApS) about the new report bounced: The server was unable to deliver your message"
    )


def test_a_spam_complaint_is_recorded(client, sent):
    assert post(client, bounce(sent, kind="SpamComplaint")).status_code == 200

    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.COMPLAINED
    assert "marked as spam" in notified_notes(sent)[-1]


def test_a_late_delivery_does_not_hide_a_bounce_and_repeats_are_recorded_once(client, sent):
    post(client, bounce(sent))
    post(client, bounce(sent))
    post(client, delivery(sent))

    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.BOUNCED
    assert len(notified_notes(sent)) == 2  # "E-mailed ..." and one bounce


def test_the_row_is_found_by_anymails_metadata_when_the_message_id_is_unknown(client, sent):
    payload = delivery(sent, MessageID="not-ours", Metadata={"notification_id": str(sent.pk)})

    assert post(client, payload).status_code == 200

    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.DELIVERED


def test_events_about_other_messages_and_opens_change_nothing(client, sent):
    assert post(client, delivery(sent, MessageID="someone-elses")).status_code == 200
    assert post(client, {**delivery(sent), "RecordType": "Open", "ReceivedAt": "2026-11-23T10:17:00Z"}).status_code == 200

    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.UNKNOWN
    assert len(notified_notes(sent)) == 1


@pytest.mark.parametrize("secret", ["postmark:wrong-secret", None], ids=["wrong-secret", "no-credentials"])
def test_a_wrong_secret_is_rejected_and_changes_nothing(client, sent, secret):
    before = sent.updated_at

    response = post(client, bounce(sent), secret=secret)

    assert response.status_code == 400
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.UNKNOWN
    assert sent.updated_at == before
    assert len(notified_notes(sent)) == 1


def test_without_a_configured_secret_the_webhook_is_closed(client, sent, settings):
    settings.ANYMAIL = {key: value for key, value in settings.ANYMAIL.items() if key != "WEBHOOK_SECRET"}

    response = post(client, bounce(sent), secret="anything:at-all")

    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.UNKNOWN


DEEP = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "",
        DEEP,
        json.dumps([]),
        json.dumps("a string"),
        json.dumps(None),
        json.dumps({"RecordType": "Delivery", "DeliveredAt": "yesterday"}),
        json.dumps({"RecordType": "Delivery", "DeliveredAt": 12}),
        json.dumps({"RecordType": "Bounce", "Type": "HardBounce", "BouncedAt": ["x"]}),
        json.dumps({"RecordType": "Delivery", "Recipient": 5, "MessageID": {"a": 1}}),
        json.dumps({"RecordType": "Delivery", "Recipient": ["x@example.com"], "MessageID": "m"}),
        json.dumps({"RecordType": "Delivery", "MessageID": "a\x00b", "Recipient": "x@example.com"}),
        json.dumps({"RecordType": "Bounce", "Type": "HardBounce", "MessageID": "m", "Email": "x@example.com",
                    "Description": ["x"], "Details": {"a": 1}, "Metadata": []}),
        json.dumps({"RecordType": ["Delivery"]}),
        json.dumps({"RecordType": "Delivery", "Metadata": {"notification_id": [1]}, "Recipient": None}),
    ],
)
def test_a_malformed_payload_with_the_right_secret_is_4xx_and_changes_nothing(client, sent, raw):
    before = sent.updated_at
    headers = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}

    response = client.post(URL, data=raw, content_type="application/json", **headers)

    assert 400 <= response.status_code < 500 or response.status_code == 200
    if response.status_code != 200:
        assert response.json()["status"] == response.status_code
    sent.refresh_from_db()
    assert (sent.delivery_status, sent.updated_at) == (DeliveryStatus.UNKNOWN, before)


def test_the_real_payload_with_odd_values_still_records_what_it_can(client, sent):
    """A bounce whose description is not text is recorded, without it."""
    payload = {**bounce(sent), "Description": 42}

    response = post(client, payload)

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.BOUNCED


def test_only_the_configured_providers_route_is_mounted(client):
    for provider in ("mailgun", "sendgrid", "amazon_ses", "sparkpost"):
        response = client.post(f"/anymail/{provider}/tracking/", data="{}", content_type="application/json")
        assert response.status_code == 404, provider


def test_the_routes_follow_the_provider_setting():
    from django.core.exceptions import ImproperlyConfigured

    from notifications.webhooks.urls import tracking_urlpatterns

    assert [str(p.pattern) for p in tracking_urlpatterns("mailgun")] == ["mailgun/tracking/"]
    assert tracking_urlpatterns("") == []
    with pytest.raises(ImproperlyConfigured):
        tracking_urlpatterns("pigeon")


def test_the_tracking_route_needs_no_csrf_token_like_a_real_webhook(sent):
    from django.test import Client

    response = post(Client(enforce_csrf_checks=True), delivery(sent))

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.DELIVERED


def test_a_flood_of_webhook_calls_from_one_address_is_slowed_down(client, settings):
    from django.core.cache import cache

    cache.clear()
    settings.EMAIL_WEBHOOK_RATE_PER_MINUTE = 2
    assert post(client, {"RecordType": "Delivery"}, secret="wrong:guess").status_code != 429
    assert post(client, {"RecordType": "Delivery"}, secret="wrong:guess").status_code != 429
    refused = post(client, {"RecordType": "Delivery"}, secret="wrong:guess")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert int(refused.headers["Retry-After"]) > 0
    cache.clear()
