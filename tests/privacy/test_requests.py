"""A person's request: support finds everything held about an e-mail address
or phone number, downloads it as one file, and erases it (and only it)."""

import io
import json
import zipfile

import pytest

from accounts.models import AuditLog
from core.errors import Invalid
from privacy.models import Erasure, ErasureReason
from privacy.selectors import privacy_person_data, privacy_person_export
from privacy.services import privacy_erase_person
from reporting.conversations import InboundEmail, report_open_conversation_by_email
from reporting.models import EventKind, Report, ReportAttachment, ReportEvent, ReportMessage, ReportReporter
from reporting.reporters import Driver, Upload, report_file_by_driver
from tests.factories import ChargePointFactory, SupportUserFactory, UserFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG-photo-bytes"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def two_drivers_one_report():
    charge_point = ChargePointFactory()
    first = report_file_by_driver(
        charge_point=charge_point, reason="broken", description="Screen smashed, Mette",
        driver=Driver(name="Mette Hansen", email="Mette@Example.com", phone="+45 12 34 56 78"),
        photo=Upload(content=PNG, filename="screen.png", content_type="image/png"),
    )
    second = report_file_by_driver(
        charge_point=charge_point, reason="broken", description="Still smashed, Jonas",
        driver=Driver(name="Jonas Berg", email="jonas@example.com"),
    )
    assert second.report.pk != first.report.pk
    return first.report


def test_lookup_by_e_mail_finds_the_reports_filings_and_photos_of_that_person_only(two_drivers_one_report):
    person = privacy_person_data(email=" mette@example.COM ")
    assert [r.pk for r in person.reports] == [two_drivers_one_report.pk]
    assert [f.name for f in person.filings] == ["Mette Hansen"]
    assert len(person.attachments) == 1


def test_lookup_by_phone_matches_the_digits_however_they_are_typed(two_drivers_one_report):
    person = privacy_person_data(phone="+4512345678")
    assert [f.name for f in person.filings] == ["Mette Hansen"]


@pytest.mark.parametrize("identity, message", [
    ({}, "Enter the person's e-mail address or phone number."),
    ({"email": "not-an-address"}, "Enter a valid e-mail address."),
    ({"phone": "12"}, "Enter a phone number with at least 6 digits."),
])
def test_lookup_refuses_what_cannot_identify_anyone(identity, message):
    with pytest.raises(Invalid, match=message):
        privacy_person_data(**identity)


def test_the_export_holds_everything_about_the_person_and_nothing_about_anyone_else(two_drivers_one_report):
    archive = zipfile.ZipFile(io.BytesIO(privacy_person_export(person=privacy_person_data(email="mette@example.com"))))
    data = json.loads(archive.read("data.json"))
    text = json.dumps(data)
    assert "Mette Hansen" in text and "Screen smashed" in text and "+45 12 34 56 78" in text
    assert "Jonas" not in text and "jonas@example.com" not in text
    [photo] = data["files"]
    assert archive.read(photo["in_zip"]) == PNG


def test_erasing_a_person_leaves_the_other_driver_and_the_report_consistent(two_drivers_one_report):
    support = SupportUserFactory()
    report = two_drivers_one_report

    [erasure] = privacy_erase_person(email="mette@example.com", by=support)

    assert erasure.reason == ErasureReason.REQUEST
    report.refresh_from_db()
    assert report.reporter_email == "" and report.description == "" and report.reporter_count == 1
    assert report.state == "open" and report.reason == "broken"
    jonas = ReportReporter.objects.get(name="Jonas Berg")
    assert jonas.email == "jonas@example.com" and jonas.report.description == "Still smashed, Jonas"
    assert not ReportReporter.objects.filter(report=report, email__icontains="mette").exists()
    assert not ReportAttachment.objects.filter(report=report).exists()
    notes = " ".join(ReportEvent.objects.filter(report=report).values_list("note", flat=True))
    assert "Mette" not in notes
    assert ReportEvent.objects.filter(report=report, kind=EventKind.PERSONAL_DATA_ERASED, actor=support).exists()
    audit = AuditLog.objects.get(action="erase_personal_data")
    assert audit.actor_id == support.pk and "mette" not in (audit.note + audit.object_repr).lower()
    assert privacy_person_data(email="mette@example.com").empty


def test_erasing_a_conversation_partner_erases_the_conversation():
    report = report_open_conversation_by_email(email=InboundEmail(
        from_email="sofie@example.com", from_name="Sofie", subject="Refund", body="Charged twice",
        message_id="<refund@example.com>"))
    privacy_erase_person(email="sofie@example.com", by=SupportUserFactory())
    assert set(ReportMessage.objects.filter(report=report).values_list("body", flat=True)) == {""}
    assert Report.objects.get(pk=report.pk).reporter_email == ""


def test_support_looks_up_downloads_and_erases_in_the_admin_after_confirming(client, two_drivers_one_report):
    client.force_login(SupportUserFactory())
    page = client.get("/admin/privacy/erasure/person/", {"email": "mette@example.com"})
    assert page.status_code == 200
    assert f"#{two_drivers_one_report.pk}" in page.content.decode()
    assert "1 photo(s) or attachment(s)" in page.content.decode()

    download = client.get("/admin/privacy/erasure/person/export/", {"email": "mette@example.com"})
    assert download["Content-Type"] == "application/zip"
    assert "attachment;" in download["Content-Disposition"]

    unconfirmed = client.post("/admin/privacy/erasure/person/erase/", {"email": "mette@example.com", "confirm": ""})
    assert unconfirmed.status_code == 200 and not Erasure.objects.exists()
    done = client.post("/admin/privacy/erasure/person/erase/", {"email": "mette@example.com", "confirm": "erase"})
    assert done.status_code == 302 and Erasure.objects.count() == 1

    nothing = client.get("/admin/privacy/erasure/person/", {"email": "mette@example.com"})
    assert "Nothing is held about this person." in nothing.content.decode()


def test_a_bad_lookup_shows_the_error_on_the_form(client):
    client.force_login(SupportUserFactory())
    page = client.get("/admin/privacy/erasure/person/", {"email": "nonsense"})
    assert page.status_code == 200 and "Enter a valid e-mail address." in page.content.decode()


def test_only_support_may_look_people_up(client, team, member_factory):
    client.force_login(member_factory(team, "admin"))
    assert client.get("/operator/privacy/erasure/person/").status_code == 404
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/admin/privacy/erasure/person/", {"email": "a@example.com"}).status_code in (302, 403)
