"""The public report page /r/<code>/: what a driver sees, what filing
writes, and every refusal (each leaves nothing behind)."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from notifications.events import notifications_process_events
from notifications.models import Notification, NotificationKind
from reporting import services
from reporting.catalogue import Party, Reason, Source
from reporting.models import EventKind, Report, ReportAttachment, ReportEvent, ReportReporter
from tests.drivers.conftest import make_image
from tests.factories import ChargePointFactory, SiteFactory, TeamFactory

pytestmark = pytest.mark.django_db

USER_REASONS_IN_BRIEF = [
    "Charge point is not working",
    "Charge point is not in location",
    "Charge point is unaccessible",
    "Charge point is broken",
    "Charge interrupted",
    "Car blocking the parking space",
    "Something else",
]
TAX = "Tax refund issue (Only in Denmark)"


def url(cp):
    return reverse("drivers:report", args=[cp.public_code])


def file_report(client, cp, **data):
    data = {"reason": Reason.NOT_WORKING, "description": "Screen is black", **data}
    return client.post(url(cp), data)


def test_page_shows_charge_point_site_and_every_user_reason_in_the_brief_wording(danish_cp):
    response = Client().get(url(danish_cp))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Harbour 1" in html and "Harbour car park" in html
    labels = re.findall(r'<label for="id_reason_\d+"><input[^>]*> ([^<]+)</label>', html)
    assert labels == USER_REASONS_IN_BRIEF + [TAX]
    # Accessible: every input has a label pointing at it.
    for field in ("description", "photo", "name", "email", "phone"):
        assert f'for="id_{field}"' in html


def test_tax_refund_reason_is_offered_only_in_denmark(dutch_cp):
    html = Client().get(url(dutch_cp)).content.decode()
    assert TAX not in html
    assert "Charge point is not working" in html


def test_tax_refund_posted_for_a_charge_point_outside_denmark_is_refused_and_nothing_saved(dutch_cp):
    response = file_report(Client(), dutch_cp, reason=Reason.TAX_REFUND)
    assert response.status_code == 400
    assert "Choose one of the problems listed." in response.content.decode()
    assert Report.objects.count() == 0


def test_unknown_code_answers_404_with_a_message_for_the_driver():
    response = Client().get("/r/NOSUCHCD/")
    assert response.status_code == 404
    assert "We do not know this charge point" in response.content.decode()


def test_code_is_found_whatever_the_case(danish_cp):
    response = Client().get(f"/r/{danish_cp.public_code.lower()}/")
    assert response.status_code == 200


@pytest.mark.parametrize("reason", [r for r in Reason if r in {
    Reason.NOT_WORKING, Reason.NOT_IN_LOCATION, Reason.INACCESSIBLE, Reason.BROKEN,
    Reason.CHARGE_INTERRUPTED, Reason.PARKING_BLOCKED, Reason.OTHER, Reason.TAX_REFUND}])
def test_each_reason_files_a_user_report_routed_by_the_catalogue(danish_cp, reason):
    response = file_report(Client(), danish_cp, reason=reason, name="Mila", phone="+45 12 34 56 78")
    assert response.status_code == 303
    report = Report.objects.get()
    assert (report.source, report.reason, report.charge_point) == (Source.USER, reason, danish_cp)
    assert report.assigned_party == Party.OWNER  # the owner operates it itself
    assert report.reporter_name == "Mila" and report.reporter_phone == "+45 12 34 56 78"
    assert report.events.get().kind == EventKind.CREATED


def test_report_on_a_charge_point_run_by_another_operator_goes_to_the_operator():
    owner = TeamFactory(country="DK")
    cp = ChargePointFactory(site=SiteFactory(team=owner), operator=TeamFactory(country="DK"))
    file_report(Client(), cp)
    assert Report.objects.get().assigned_party == Party.OPERATOR


def test_thank_you_page_shows_the_reference_number_and_a_private_status_link(danish_cp):
    client = Client()
    response = file_report(client, danish_cp)
    report = Report.objects.get()
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Thank you!" in html
    assert f'id="reference">#{report.pk}<' in html
    token = response["Location"].split("/r/s/")[1].split("/")[0]
    assert len(token) >= 40
    assert f"/r/s/{token}/" in html
    assert page["Referrer-Policy"] == "no-referrer"
    # The token is stored only as a hash.
    assert not ReportReporter.objects.filter(status_key=token).exists()


def test_status_link_follows_the_report_and_a_wrong_token_finds_nothing(danish_cp, support_user):
    client = Client()
    location = file_report(client, danish_cp)["Location"].split("?")[0]
    assert "Received" in client.get(location).content.decode()
    services.report_resolve(report=Report.objects.get(), by=support_user)
    assert "Resolved." in client.get(location).content.decode()
    assert client.get("/r/s/not-the-token/").status_code == 404


def test_required_description_for_something_else_and_bad_email_are_refused_with_messages(danish_cp):
    response = file_report(Client(), danish_cp, reason=Reason.OTHER, description="", email="nope@")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Tell us what is wrong." in html
    assert "Enter a valid e-mail address." in html
    assert Report.objects.count() == 0


def test_missing_reason_is_refused(danish_cp):
    response = Client().post(url(danish_cp), {"description": "x"})
    assert response.status_code == 400
    assert "Choose what is wrong." in response.content.decode()
    assert Report.objects.count() == 0


# --- the same driver again -------------------------------------------------------


def test_same_email_same_reason_while_open_adds_to_the_report_instead_of_filing_another(danish_cp):
    file_report(Client(), danish_cp, email="mila@example.com", description="First")
    file_report(Client(), danish_cp, email="MILA@example.com", description="Still broken")
    report = Report.objects.get()
    assert report.reporter_count == 2
    assert report.reporters.count() == 2
    again = report.events.get(kind=EventKind.REPORTED_AGAIN)
    assert "Still broken" in again.note and "2 reports" in again.note


def test_same_phone_or_same_browser_is_the_same_driver(danish_cp):
    file_report(Client(), danish_cp, phone="+45 12 34 56 78")
    file_report(Client(), danish_cp, phone="+4512345678")
    browser = Client()
    browser.get(url(danish_cp))  # the page gives the browser its token
    file_report(browser, danish_cp, reason=Reason.BROKEN)
    file_report(browser, danish_cp, reason=Reason.BROKEN)
    counts = dict(Report.objects.values_list("reason", "reporter_count"))
    assert counts == {Reason.NOT_WORKING: 2, Reason.BROKEN: 2}


def test_another_reason_another_driver_or_a_resolved_report_files_a_new_report(danish_cp, support_user):
    file_report(Client(), danish_cp, email="mila@example.com")
    file_report(Client(), danish_cp, email="mila@example.com", reason=Reason.BROKEN)
    file_report(Client(), danish_cp, email="jan@example.com")
    services.report_resolve(report=Report.objects.order_by("pk").first(), by=support_user)
    file_report(Client(), danish_cp, email="mila@example.com")
    assert Report.objects.count() == 4
    assert set(Report.objects.values_list("reporter_count", flat=True)) == {1}


# --- e-mails to the driver -----------------------------------------------------------


def test_driver_with_an_email_gets_one_confirmation_and_one_resolution_message(danish_cp, support_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    file_report(client, danish_cp, email="mila@example.com", name="Mila")
    file_report(Client(), danish_cp, email="mila@example.com")  # joins: no second confirmation
    report = Report.objects.get()
    confirmation = Notification.objects.get(kind=NotificationKind.DRIVER_CONFIRMATION)
    assert confirmation.recipient_email == "mila@example.com" and confirmation.team is None
    assert f"#{report.pk}" in confirmation.subject
    assert "/r/s/" in confirmation.body_text
    services.report_resolve(report=report, by=support_user)
    notifications_process_events()  # what the task queued on commit does
    services.report_reopen(report=report, by=support_user)
    services.report_resolve(report=report, by=support_user)
    notifications_process_events()
    resolved = Notification.objects.filter(kind=NotificationKind.DRIVER_RESOLVED)
    assert [n.recipient_email for n in resolved] == ["mila@example.com"]


def test_driver_without_an_email_gets_nothing(danish_cp, support_user):
    file_report(Client(), danish_cp, phone="+4512345678")
    services.report_resolve(report=Report.objects.get(), by=support_user)
    notifications_process_events()
    assert not Notification.objects.filter(team=None).exists()


# --- photo -------------------------------------------------------------------------------


def test_photo_is_kept_privately_with_its_metadata_stripped(danish_cp, _private_media, settings):
    data = make_image("JPEG", exif_gps=True)
    assert Image.open(io.BytesIO(data)).getexif()  # the upload has EXIF
    upload = SimpleUploadedFile("IMG_0001.jpg", data, content_type="image/jpeg")
    response = file_report(Client(), danish_cp, photo=upload)
    assert response.status_code == 303
    attachment = ReportAttachment.objects.get()
    path = attachment.file.path
    assert path.startswith(str(_private_media))
    assert not path.startswith(str(settings.MEDIA_ROOT or "/nonexistent"))
    stored = Image.open(path)
    assert stored.format == "JPEG"
    assert not stored.getexif()
    assert "SecretCam" not in open(path, "rb").read().decode("latin-1")
    assert attachment.content_type == "image/jpeg"
    assert "IMG_0001" not in attachment.file.name
    with pytest.raises(ValueError):
        _ = attachment.file.url  # no public URL


def test_png_photo_is_accepted(danish_cp):
    upload = SimpleUploadedFile("p.png", make_image("PNG"), content_type="image/png")
    assert file_report(Client(), danish_cp, photo=upload).status_code == 303
    assert ReportAttachment.objects.get().content_type == "image/png"


@pytest.mark.parametrize("name,content,message", [
    ("fake.jpg", b"this is not an image at all", "The photo must be a JPEG or PNG image."),
    ("anim.gif", make_image("GIF", mode="P"), "The photo must be a JPEG or PNG image."),
    ("cut.jpg", make_image("JPEG", size=(400, 400))[:300], "The photo could not be read"),
])
def test_a_file_that_is_not_a_jpeg_or_png_is_refused_and_nothing_is_saved(danish_cp, name, content, message,
                                                                           _private_media):
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
    response = file_report(Client(), danish_cp, photo=upload)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Report.objects.count() == 0 and ReportAttachment.objects.count() == 0
    assert not any(_private_media.rglob("*.*")) if _private_media.exists() else True


def test_photo_over_5_mb_is_refused(danish_cp):
    upload = SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"0" * (5 * 1024 * 1024), content_type="image/jpeg")
    response = file_report(Client(), danish_cp, photo=upload)
    assert response.status_code == 400
    assert "The photo is too large: at most 5 MB." in response.content.decode()
    assert Report.objects.count() == 0


def test_photo_with_too_many_pixels_is_refused(danish_cp, settings):
    settings.DRIVER_REPORTS = {**settings.DRIVER_REPORTS, "max_photo_pixels": 1000}
    upload = SimpleUploadedFile("wide.png", make_image("PNG", size=(100, 100)), content_type="image/png")
    response = file_report(Client(), danish_cp, photo=upload)
    assert response.status_code == 400
    assert "too many pixels" in response.content.decode()


def test_photo_is_served_only_to_back_office_users_who_see_the_report(danish_cp, support_user, member_factory):
    upload = SimpleUploadedFile("p.png", make_image("PNG"), content_type="image/png")
    file_report(Client(), danish_cp, photo=upload)
    attachment = ReportAttachment.objects.get()
    link = reverse("reporting:attachment", args=[attachment.pk])
    assert Client().get(link).status_code == 302  # to the login page
    stranger = member_factory(TeamFactory(), "admin")
    client = Client()
    client.force_login(stranger)
    assert client.get(link).status_code == 404
    for user in (support_user, member_factory(danish_cp.owner, "viewer")):
        client = Client()
        client.force_login(user)
        response = client.get(link)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")


# --- abuse -------------------------------------------------------------------------------


def test_request_over_the_size_limit_is_refused_before_its_body_is_read(danish_cp, settings, rf):
    from drivers.views import report_page

    class Untouchable(io.BytesIO):
        def read(self, *args, **kwargs):
            raise AssertionError("the body was read")

        readline = read

    request = rf.post(url(danish_cp), data=b"", content_type="multipart/form-data; boundary=x")
    request.META["CONTENT_LENGTH"] = str(settings.DRIVER_REPORTS["max_request_bytes"] + 1)
    request.META["wsgi.input"] = Untouchable()
    request._stream = Untouchable()
    response = report_page(request, code=danish_cp.public_code)
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert Report.objects.count() == 0


def test_filled_honeypot_is_refused_and_nothing_is_saved(danish_cp):
    response = file_report(Client(), danish_cp, website="http://spam.example")
    assert response.status_code == 400
    assert "could not be sent" in response.content.decode()
    assert Report.objects.count() == 0


def test_honeypot_is_hidden_from_people_and_screen_readers(danish_cp):
    html = Client().get(url(danish_cp)).content.decode()
    assert re.search(r'<div class="trap" aria-hidden="true">.*name="website"[^>]*tabindex="-1"', html, re.S)


def test_rate_limit_per_address(danish_cp, dutch_cp, settings):
    settings.DRIVER_REPORTS = {**settings.DRIVER_REPORTS, "rate_per_address": 2}
    client = Client()
    assert file_report(client, danish_cp, reason=Reason.BROKEN).status_code == 303
    assert file_report(client, dutch_cp).status_code == 303
    response = file_report(client, danish_cp, reason=Reason.OTHER, description="x")
    assert response.status_code == 429
    assert "Too many reports" in response.content.decode()
    assert int(response.headers["Retry-After"]) > 0 and response.headers["RateLimit-Remaining"] == "0"
    assert Report.objects.count() == 2
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert file_report(other, danish_cp, reason=Reason.OTHER, description="x").status_code == 303


def test_rate_limit_per_charge_point(danish_cp, dutch_cp, settings):
    settings.DRIVER_REPORTS = {**settings.DRIVER_REPORTS, "rate_per_charge_point": 1}
    assert file_report(Client(REMOTE_ADDR="10.0.0.1"), danish_cp).status_code == 303
    assert file_report(Client(REMOTE_ADDR="10.0.0.2"), danish_cp, reason=Reason.BROKEN).status_code == 429
    assert file_report(Client(REMOTE_ADDR="10.0.0.3"), dutch_cp).status_code == 303


def test_post_without_csrf_token_is_refused_with_a_message(danish_cp):
    client = Client(enforce_csrf_checks=True)
    response = file_report(client, danish_cp)
    assert response.status_code == 403
    assert "too old" in response.content.decode()
    assert Report.objects.count() == 0
    page = client.get(url(danish_cp))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert file_report(client, danish_cp, csrfmiddlewaretoken=token).status_code == 303


def test_events_on_the_timeline_never_show_the_drivers_email(danish_cp):
    file_report(Client(), danish_cp, email="mila@example.com")
    file_report(Client(), danish_cp, email="mila@example.com")
    assert not ReportEvent.objects.filter(note__contains="mila@").exists()


# --- languages -----------------------------------------------------------------------------


def test_page_speaks_danish_to_a_danish_browser(danish_cp):
    html = Client(HTTP_ACCEPT_LANGUAGE="da-DK,da;q=0.9").get(url(danish_cp)).content.decode()
    assert '<html lang="da">' in html
    assert "Meld et problem" in html and "Ladestanderen virker ikke" in html
    assert "Problem med afgiftsrefusion (kun i Danmark)" in html


def test_language_switch_is_a_link_that_remembers_the_choice(danish_cp):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.get(url(danish_cp) + "?lang=da")
    assert response.status_code == 302 and response["Location"] == url(danish_cp)
    assert "Hvad er der galt?" in client.get(url(danish_cp)).content.decode()
    client.get(url(danish_cp) + "?lang=en")
    assert "What is wrong?" in client.get(url(danish_cp)).content.decode()


def test_refusals_and_the_confirmation_email_are_in_the_drivers_language(danish_cp):
    client = Client(HTTP_ACCEPT_LANGUAGE="da")
    response = file_report(client, danish_cp, website="bot")
    assert "Din fejlmelding kunne ikke sendes." in response.content.decode()
    response = file_report(client, danish_cp, reason=Reason.OTHER, description="")
    assert "Fortæl os, hvad der er galt." in response.content.decode()
    file_report(client, danish_cp, email="mila@example.com")
    mail = Notification.objects.get(kind=NotificationKind.DRIVER_CONFIRMATION)
    assert mail.language == "da"
    assert mail.subject.startswith("Vi har modtaget din fejlmelding #")
    assert "Ladestanderen virker ikke" in mail.subject
