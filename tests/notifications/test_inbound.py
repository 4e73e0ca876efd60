"""Inbound e-mail (Postmark's inbound webhook through anymail, in Postmark's
own payload format): new conversations, replies threaded into them, the
"needs a charge point" list, attachment limits, automatic mail ignored, and
the webhook's secret."""

import base64
import json

import pytest
from django.core import mail

from notifications.models import Notification, NotificationKind
from reporting import services as reporting
from reporting.catalogue import Party, Reason, Source
from reporting.conversations import report_link_charge_point
from reporting.models import EventKind, Report, ReportAttachment, ReportMessage, ReportState
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db

URL = "/anymail/postmark/inbound/"
SECRET = "postmark:correct-webhook-secret"


@pytest.fixture(autouse=True)
def inbound_settings(settings, tmp_path):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}
    settings.SUPPORT_EMAIL_ADDRESS = "support@cp.example"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def payload(*, subject="Cannot charge", text="The charger says error.", message_id="<a1@mail.example.org>",
            to="support@cp.example", headers=(), attachments=(), stripped=None, sender="mette@example.com"):
    """A Postmark inbound payload, as Postmark sends it (without RawEmail)."""
    return {
        "FromFull": {"Email": sender, "Name": "Mette Hansen", "MailboxHash": ""},
        "ToFull": [{"Email": to, "Name": "Support", "MailboxHash": to.partition("+")[2].partition("@")[0]}],
        "CcFull": [],
        "OriginalRecipient": to,
        "Subject": subject,
        "MessageID": "22c74902-a0c1-4511-804f2-341342852c90",
        "Date": "Mon, 30 Nov 2026 08:31:04 +0100",
        "TextBody": text,
        "HtmlBody": f"<div>{text}</div>",
        "StrippedTextReply": stripped,
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": f"<{sender}>"},
            {"Name": "Received", "Value": "by mail.example.org for <support@cp.example> ..."},
            {"Name": "MIME-Version", "Value": "1.0"},
            {"Name": "Message-ID", "Value": message_id},
            *({"Name": name, "Value": value} for name, value in headers),
        ],
        "Attachments": [
            {"Name": name, "Content": base64.b64encode(content).decode("ascii"), "ContentType": ctype,
             "ContentLength": len(content)}
            for name, content, ctype in attachments
        ],
    }


def post(client, body, secret=SECRET):
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()} if secret else {}
    return client.post(URL, data=json.dumps(body), content_type="application/json", **auth)


def test_a_new_email_naming_a_charge_point_opens_a_support_report_linked_to_it(client):
    cp = ChargePointFactory(ocpp_id="VW-HARB-7")
    response = post(client, payload(subject="Charger VW-HARB-7 broken", text="It shows a red light."))
    assert response.status_code == 200
    report = Report.objects.get()
    assert (report.source, report.reason, report.charge_point) == (Source.SUPPORT, Reason.CONVERSATION, cp)
    assert report.assigned_party == Party.SUPPORT
    assert report.reporter_email == "mette@example.com" and report.reporter_name == "Mette Hansen"
    message = report.messages.get()
    assert (message.sender, message.channel, message.body) == ("driver", "email", "It shows a red light.")
    assert message.email_message_id == "<a1@mail.example.org>"


def test_the_public_code_in_the_body_links_too(client):
    cp = ChargePointFactory()
    post(client, payload(text=f"The sticker says {cp.public_code.lower()}."))
    assert Report.objects.get().charge_point == cp


def test_an_email_naming_no_charge_point_waits_in_the_needs_a_charge_point_list(client, support_user):
    post(client, payload(subject="Help", text="My card does not work anywhere."))
    report = Report.objects.get()
    assert report.charge_point is None
    client.force_login(support_user)
    listing = client.get("/admin/reporting/report/?charge_point_linked=no").content.decode()
    assert f"/admin/reporting/report/{report.pk}/change/" in listing and "needs a charge point" in listing
    page = client.get(f"/admin/reporting/report/{report.pk}/change/").content.decode()
    assert 'id="needs-charge-point"' in page
    cp = ChargePointFactory(ocpp_id="VW-HARB-9")
    client.post(f"/admin/reporting/report/{report.pk}/link-charge-point/", {"charge_point": "VW-HARB-9"})
    report.refresh_from_db()
    assert report.charge_point == cp
    assert report.events.filter(kind=EventKind.CHARGE_POINT_LINKED).exists()
    assert client.get("/admin/reporting/report/?charge_point_linked=no").content.decode().count(
        f"/admin/reporting/report/{report.pk}/change/") == 0


def test_operators_never_see_a_report_without_a_charge_point(client, member_factory):
    post(client, payload(text="no charge point named"))
    cp = ChargePointFactory()
    client.force_login(member_factory(cp.owner, "admin"))
    assert "mette" not in client.get("/operator/reporting/report/").content.decode().lower()
    assert Report.objects.for_user(member_factory(cp.owner, "viewer")).count() == 0


def test_two_charge_points_named_leaves_the_choice_to_support(client):
    ChargePointFactory(ocpp_id="CP-ONE-1")
    ChargePointFactory(ocpp_id="CP-TWO-2")
    post(client, payload(text="Either CP-ONE-1 or CP-TWO-2, not sure."))
    assert Report.objects.get().charge_point is None


def test_a_reply_by_token_or_by_references_is_appended_and_support_answers_threaded(
        client, support_user, django_capture_on_commit_callbacks):
    post(client, payload(message_id="<first@mail.example.org>"))
    report = Report.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_add_message(report=report, by=support_user, sender="support", body="Which charger?")
    sent = mail.outbox[-1]
    assert sent.to == ["Mette Hansen <mette@example.com>"]
    assert sent.extra_headers["In-Reply-To"] == "<first@mail.example.org>"
    assert "<first@mail.example.org>" in sent.extra_headers["References"]
    report.refresh_from_db()
    assert sent.reply_to == [f"support+{report.reply_token}@cp.example"]
    ours = sent.extra_headers["Message-ID"]
    assert sent.subject == f"Re: Cannot charge [#{report.pk}]"

    # The driver answers: to the reply address ...
    post(client, payload(to=f"support+{report.reply_token}@cp.example", subject="Re: Cannot charge",
                         text="The one at the harbour.\n> Which charger?", stripped="The one at the harbour.",
                         message_id="<second@mail.example.org>"))
    # ... or from another client that only keeps the threading headers.
    post(client, payload(subject="Re: Cannot charge", text="Number 3.", message_id="<third@mail.example.org>",
                         headers=[("In-Reply-To", ours), ("References", f"<first@mail.example.org> {ours}")]))
    assert Report.objects.count() == 1
    bodies = list(report.messages.values_list("sender", "body"))
    assert bodies == [("driver", "The charger says error."), ("support", "Which charger?"),
                      ("driver", "The one at the harbour."), ("driver", "Number 3.")]
    assert Notification.objects.filter(kind=NotificationKind.DRIVER_MESSAGE).count() == 1


def test_a_reply_to_a_resolved_conversation_reopens_it(client, support_user):
    post(client, payload())
    report = Report.objects.get()
    reporting.report_resolve(report=report, by=support_user)
    post(client, payload(to=f"support+{Report.objects.get().reply_token}@cp.example", text="Still broken",
                         message_id="<again@mail.example.org>"))
    report.refresh_from_db()
    assert report.state == ReportState.OPEN and report.messages.count() == 2


def test_the_same_email_delivered_twice_is_kept_once(client):
    post(client, payload())
    post(client, payload())
    assert Report.objects.count() == 1 and ReportMessage.objects.count() == 1


@pytest.mark.parametrize("header", [("Auto-Submitted", "auto-replied"), ("Precedence", "bulk"),
                                    ("Precedence", "auto_reply"), ("X-Autoreply", "yes"),
                                    ("List-Id", "<drivers.example.org>")])
def test_automatic_replies_and_bounces_are_ignored_so_nothing_loops(client, header, support_user,
                                                                   django_capture_on_commit_callbacks):
    post(client, payload(message_id="<first@mail.example.org>"))
    report = Report.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_add_message(report=report, by=support_user, sender="support", body="Which charger?")
    sent_before = len(mail.outbox)
    response = post(client, payload(to=f"support+{Report.objects.get().reply_token}@cp.example",
                                    text="I am out of office", headers=[header], message_id="<ooo@x.example>"))
    assert response.status_code == 200
    assert ReportMessage.objects.count() == 2 and Report.objects.count() == 1
    assert len(mail.outbox) == sent_before


def test_a_bounce_from_the_mailer_daemon_opens_nothing(client):
    post(client, payload(sender="MAILER-DAEMON@mx.example.org", subject="Undelivered Mail Returned to Sender"))
    assert Report.objects.count() == 0


def test_auto_submitted_no_is_a_person(client):
    post(client, payload(headers=[("Auto-Submitted", "no")]))
    assert Report.objects.count() == 1


def test_attachments_are_kept_within_the_type_and_size_limits(client, settings):
    settings.INBOUND_EMAIL = {**settings.INBOUND_EMAIL, "max_attachment_bytes": 1000}
    post(client, payload(attachments=[
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png"),
        ("invoice.pdf", b"%PDF-1.4 small", "application/pdf"),
        ("virus.exe", b"MZ" + b"0" * 10, "application/octet-stream"),
        ("huge.jpg", b"\xff\xd8" + b"0" * 2000, "image/jpeg"),
    ]))
    report = Report.objects.get()
    kept = list(ReportAttachment.objects.values_list("filename", "content_type"))
    assert kept == [("photo.png", "image/png"), ("invoice.pdf", "application/pdf")]
    assert all(a.message_id == report.messages.get().pk for a in ReportAttachment.objects.all())
    body = report.messages.get().body
    assert "virus.exe: the type application/octet-stream is not accepted" in body
    assert "huge.jpg: larger than" in body


def test_too_many_attachments_are_refused_past_the_limit(client, settings):
    settings.INBOUND_EMAIL = {**settings.INBOUND_EMAIL, "max_attachments": 2}
    post(client, payload(attachments=[(f"p{i}.png", b"png", "image/png") for i in range(3)]))
    assert ReportAttachment.objects.count() == 2
    assert "p2.png: more than 2 attachments" in ReportMessage.objects.get().body


def test_wrong_or_missing_secret_is_refused_and_nothing_is_saved(client, settings):
    assert post(client, payload(), secret="postmark:wrong").status_code == 400
    assert post(client, payload(), secret=None).status_code == 400
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"}
    assert post(client, payload()).status_code == 403
    assert Report.objects.count() == 0


def test_support_report_without_charge_point_is_refused_for_other_sources():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.create(charge_point=None, source=Source.USER, reason=Reason.BROKEN,
                              assigned_party=Party.OWNER)


def test_linking_is_support_only_and_once(client, member_factory, support_user):
    post(client, payload(text="nothing named"))
    report = Report.objects.get()
    cp = ChargePointFactory()
    from reporting.errors import InvalidReport, NotPermitted

    with pytest.raises(NotPermitted):
        report_link_charge_point(report=report, charge_point=cp, by=member_factory(cp.owner, "owner"))
    report_link_charge_point(report=report, charge_point=cp, by=support_user)
    with pytest.raises(InvalidReport):
        report_link_charge_point(report=report, charge_point=ChargePointFactory(), by=support_user)
    report.refresh_from_db()
    assert report.charge_point == cp


def test_support_reads_a_report_without_charge_point_through_the_api(client, support_user):
    post(client, payload(text="nothing named"))
    report = Report.objects.get()
    client.force_login(support_user)
    listed = client.get("/api/v1/reports/")
    assert listed.status_code == 200
    detail = client.get(f"/api/v1/reports/{report.pk}/")
    assert detail.status_code == 200
    assert detail.json()["charge_point"] is None
    assert client.get("/admin/").status_code == 200  # the dashboard counts it too


@pytest.mark.parametrize("source, reason", [("user", "broken"), ("support", "conversation")])
def test_a_report_filed_by_hand_still_needs_a_charge_point(client, support_user, source, reason):
    client.force_login(support_user)
    response = client.post("/admin/reporting/report/add/", {"source": source, "reason": reason,
                                                           "description": "no charge point"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Report.objects.exists()


def test_a_conversation_without_charge_point_cannot_be_handed_to_a_team(client, support_user):
    from reporting.errors import InvalidReport

    post(client, payload(text="nothing named"))
    report = Report.objects.get()
    with pytest.raises(InvalidReport, match="link one before"):
        reporting.report_assign(report=report, party=Party.OPERATOR, by=support_user)
    reporting.report_assign(report=report, party=Party.SUPPORT, by=support_user)
    report.refresh_from_db()
    assert report.state == ReportState.ASSIGNED and report.assigned_party == Party.SUPPORT


def test_the_provider_posts_without_a_csrf_token_like_a_real_webhook():
    """Postmark sends no CSRF cookie: the route must not ask for one."""
    from django.test import Client

    response = post(Client(enforce_csrf_checks=True), payload())

    assert response.status_code == 200
    assert Report.objects.filter(source=Source.SUPPORT).count() == 1


# --- repeats: the same e-mail twice, and our own e-mail coming back ------------------


def test_a_reply_delivered_twice_is_appended_once(client):
    post(client, payload(message_id="<first@mail.example.org>"))
    token = Report.objects.get().reply_token
    reply = payload(to=f"support+{token}@cp.example", text="Still nothing.", message_id="<reply@mail.example.org>")
    post(client, reply)
    post(client, reply)  # the webhook retried, or the reply reached us twice
    assert list(Report.objects.get().messages.values_list("body", flat=True)) == [
        "The charger says error.", "Still nothing."
    ]


def sent_notifications(fleet, capture):
    """The e-mails a filed report sent to the operator's contacts."""
    with capture(execute=True):
        report = reporting.report_create(charge_point=fleet.charge_point, source=Source.USER, reason=Reason.BROKEN)
    rows = list(Notification.objects.filter(report=report))
    assert rows and all(row.email_message_id for row in rows)
    return rows


def test_our_own_notification_coming_back_is_recognised_by_its_message_id(
        client, fleet, django_capture_on_commit_callbacks):
    """A contact's mailbox forwarding to the support address: the copy keeps
    the Message-ID we sent (the same on every retry) and opens nothing."""
    row = sent_notifications(fleet, django_capture_on_commit_callbacks)[0]
    reports_before = Report.objects.count()

    response = post(client, payload(subject=row.subject, text=row.body_text, message_id=row.email_message_id,
                                    sender=row.recipient_email))

    assert response.status_code == 200
    assert Report.objects.count() == reports_before and not ReportMessage.objects.exists()


def test_our_own_notification_coming_back_is_recognised_by_its_id_header(
        client, fleet, django_capture_on_commit_callbacks):
    """A forwarder that gives the copy a new Message-ID keeps our header."""
    from anymail.inbound import AnymailInboundMessage

    from notifications.inbound import inbound_email_receive

    row = sent_notifications(fleet, django_capture_on_commit_callbacks)[0]
    copy = AnymailInboundMessage.construct(
        from_email=row.recipient_email, to="support@cp.example", subject=row.subject, text=row.body_text,
        headers=[("Message-ID", "<resent-1@forwarder.example>"), ("X-Report-Notification-Id", str(row.pk))],
    )
    assert inbound_email_receive(message=copy) == "own"
    assert not ReportMessage.objects.exists()

    # The header naming no row of ours is a stranger's: a new conversation.
    copy.replace_header("X-Report-Notification-Id", "999999999")
    assert inbound_email_receive(message=copy) == "opened"


def test_supports_reply_coming_back_is_not_stored_as_the_drivers(
        client, support_user, django_capture_on_commit_callbacks):
    post(client, payload(message_id="<first@mail.example.org>"))
    report = Report.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_add_message(report=report, by=support_user, sender="support", body="Which charger?")
    ours = mail.outbox[-1].extra_headers["Message-ID"]

    # The driver's address auto-forwards to ours: our reply comes back as sent.
    post(client, payload(to=f"support+{report.reply_token}@cp.example", subject="Re: Cannot charge",
                         text="Which charger?", message_id=ours))

    assert list(report.messages.values_list("sender", flat=True)) == ["driver", "support"]
