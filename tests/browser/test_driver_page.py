"""The drivers' report page in Chromium at a phone's size (390 x 844):
every reason filed, the Denmark rule, a photo, the refusals, Danish, and
filing with JavaScript switched off. Screenshots go to docs/screenshots/
with SAVE_SCREENSHOTS=1 (see test_admin_browser)."""

import pytest
from PIL import Image

from reporting.catalogue import DRIVER_REASON_LABELS, Reason
from reporting.models import Report, ReportAttachment
from tests.browser.test_admin_browser import shot
from tests.factories import ChargePointFactory, SiteFactory, TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    contexts = []

    def make(locale="en-GB", javascript=True, width=PHONE["width"]):
        context = browser.new_context(viewport={**PHONE, "width": width}, locale=locale, is_mobile=True,
                                      has_touch=True, java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def cps(settings, tmp_path, live_server):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PUBLIC_REPORT_BASE_URL = live_server.url
    settings.DRIVER_REPORTS = {**settings.DRIVER_REPORTS, "rate_per_address": 100, "rate_per_charge_point": 100}
    dk = TeamFactory(name="Voltway Charging", country="DK")
    nl = TeamFactory(name="Greenpark Properties", country="NL")
    return {
        "dk": ChargePointFactory(site=SiteFactory(team=dk, name="Harbour car park", city="Aarhus", country="DK"),
                                 name="Harbour 1", ocpp_id="VW-HARB-1"),
        "nl": ChargePointFactory(site=SiteFactory(team=nl, name="Greenpark mall", city="Utrecht", country="NL"),
                                 name="Mall entrance", ocpp_id="GP-MALL-1"),
    }


def open_form(page, live_server, cp):
    page.goto(f"{live_server.url}/r/{cp.public_code}/")
    page.wait_for_selector("form button[type=submit]")


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def jpeg_with_exif(path):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    Image.new("RGB", (640, 480), (30, 120, 200)).save(path, format="JPEG", exif=exif)
    return path


def test_each_reason_is_filed_from_a_phone(phone, live_server, cps):
    page = phone()
    for reason, label in DRIVER_REASON_LABELS.items():
        open_form(page, live_server, cps["dk"])
        page.get_by_label(str(label), exact=True).check()
        page.get_by_label("Tell us more").fill(f"Filed as {reason}")
        if reason == Reason.NOT_WORKING:
            assert fits_the_screen(page)
            shot(page, "driver-report-form")
        page.get_by_role("button", name="Send report").click()
        page.wait_for_selector("#reference")
        report = Report.objects.get(description=f"Filed as {reason}")
        assert page.inner_text("#reference") == f"#{report.pk}"
        assert report.reason == reason and report.charge_point == cps["dk"]
    assert fits_the_screen(page)
    shot(page, "driver-report-thanks")
    page.click("#status-link")
    assert "Received" in page.inner_text("#report-state")


def test_tax_refund_is_offered_only_for_a_charge_point_in_denmark(phone, live_server, cps):
    page = phone()
    tax = str(DRIVER_REASON_LABELS[Reason.TAX_REFUND])
    open_form(page, live_server, cps["dk"])
    assert page.get_by_label(tax, exact=True).count() == 1
    open_form(page, live_server, cps["nl"])
    assert page.get_by_label(tax, exact=True).count() == 0
    assert page.locator("#reasons input[type=radio]").count() == 7


def test_a_photo_is_filed_and_kept_without_its_metadata(phone, live_server, cps, tmp_path):
    page = phone()
    open_form(page, live_server, cps["dk"])
    page.get_by_label("Charge point is broken", exact=True).check()
    page.get_by_label("Photo (optional)").set_input_files(str(jpeg_with_exif(tmp_path / "IMG_1.jpg")))
    # No e-mail here: its confirmation would be queued on the real broker
    # (the live server commits), where no worker of this test takes it.
    page.get_by_label("Your name (optional)").fill("Mila")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_selector("#reference")
    attachment = ReportAttachment.objects.get()
    stored = Image.open(attachment.file.path)
    assert stored.size == (640, 480) and not stored.getexif()


def test_refusals_are_shown_in_the_drivers_words(phone, live_server, cps, tmp_path, settings):
    page = phone()
    open_form(page, live_server, cps["dk"])
    page.get_by_role("button", name="Send report").click()
    assert "Choose what is wrong." in page.inner_text("#reason-errors")

    page.get_by_label("Something else", exact=True).check()
    bogus = tmp_path / "photo.jpg"
    bogus.write_bytes(b"not a picture")
    page.get_by_label("Photo (optional)").set_input_files(str(bogus))
    page.get_by_label("Your e-mail (optional)").fill("nope@")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_selector("#form-errors")
    assert "Tell us what is wrong." in page.inner_text("#description-errors")
    assert "Enter a valid e-mail address." in page.inner_text("#email-errors")
    assert fits_the_screen(page)
    shot(page, "driver-report-errors")
    assert "The photo must be a JPEG or PNG image." not in page.content()  # checked once the form is valid
    page.get_by_label("Tell us more").fill("The cable holder is missing")
    page.get_by_label("Your e-mail (optional)").fill("")
    page.get_by_label("Photo (optional)").set_input_files(str(bogus))
    page.get_by_role("button", name="Send report").click()
    assert "The photo must be a JPEG or PNG image." in page.inner_text("#photo-errors")

    # A bot fills the field people never see.
    open_form(page, live_server, cps["dk"])
    page.get_by_label("Charge point is broken", exact=True).check()
    page.evaluate("document.querySelector('input[name=website]').value = 'http://spam.example'")
    page.get_by_role("button", name="Send report").click()
    assert "Your report could not be sent." in page.inner_text("#refusal")

    settings.DRIVER_REPORTS = {**settings.DRIVER_REPORTS, "max_request_bytes": 20_000}
    big = tmp_path / "big.png"
    Image.effect_noise((200, 200), 100).convert("RGB").save(big, format="PNG")
    open_form(page, live_server, cps["dk"])
    page.get_by_label("Charge point is broken", exact=True).check()
    page.get_by_label("Photo (optional)").set_input_files(str(big))
    page.get_by_role("button", name="Send report").click()
    assert "too large" in page.inner_text("#refusal")

    settings.DRIVER_REPORTS = {**settings.DRIVER_REPORTS, "max_request_bytes": 6 * 1024 * 1024,
                               "rate_per_address": 0}
    open_form(page, live_server, cps["dk"])
    page.get_by_label("Charge point is broken", exact=True).check()
    page.get_by_role("button", name="Send report").click()
    assert "Too many reports" in page.inner_text("#refusal")
    shot(page, "driver-report-refused")
    assert Report.objects.count() == 0  # every attempt above was refused


def test_danish_phone_gets_danish_and_can_switch(phone, live_server, cps):
    page = phone(locale="da-DK")
    open_form(page, live_server, cps["dk"])
    assert page.get_attribute("html", "lang") == "da"
    assert page.get_by_label("Ladestanderen virker ikke", exact=True).count() == 1
    shot(page, "driver-report-form-da")
    page.click("nav.lang >> text=English")
    page.wait_for_selector("text=What is wrong?")
    assert page.get_attribute("html", "lang") == "en"


def test_filing_works_without_javascript_on_a_360px_screen(phone, live_server, cps):
    page = phone(javascript=False, width=360)
    open_form(page, live_server, cps["nl"])
    assert fits_the_screen_without_js(page)
    page.get_by_label("Car blocking the parking space", exact=True).check()
    page.get_by_label("Your phone (optional)").fill("+31 6 1234 5678")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_selector("#reference")
    report = Report.objects.get()
    assert report.reason == Reason.PARKING_BLOCKED and report.reporter_phone == "+31 6 1234 5678"


def fits_the_screen_without_js(page) -> bool:
    # page.evaluate runs in the page's isolated world even with scripts off.
    return page.evaluate("document.documentElement.scrollWidth <= 360")
