"""The report page in Chromium: one header with the actions, then tabs;
"Add a comment" lands in the timeline's comment box; a comment comes back on
the Timeline tab."""

import pytest

from reporting import services
from reporting.catalogue import Reason, Source
from tests.factories import PASSWORD, ChargePointFactory, SupportUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def conversation():
    support = SupportUserFactory(email="support@example.com", first_name="Sam", last_name="Support")
    cp = ChargePointFactory(name="Harbour 3", ocpp_id="VW-HARB-3")
    report = services.report_create(charge_point=cp, source=Source.SUPPORT, reason=Reason.CONVERSATION, by=support,
                                    description="Driver could not start a charge",
                                    messages=[{"sender": "driver", "author_name": "Jan",
                                               "body": "The app says offline"}])
    return report


@pytest.mark.parametrize("width,height", [(1280, 800), (1440, 900)])
def test_the_report_page_has_a_header_and_tabs(browser, live_server, conversation, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/admin/login/?next=/admin/reporting/report/{conversation.pk}/change/")
        page.fill("#id_username", "support@example.com")
        page.fill("#id_password", PASSWORD)
        page.click("#login-form [type=submit]")
        page.wait_for_selector("#report-header")
        header = page.inner_text("#report-header")
        for label in ("Charge point", "Charging site", "Team owner", "Operator", "State", "Age", "Occurrences",
                      "Assigned to", "Harbour 3"):
            assert label in header, label
        # One tab at a time, the timeline first; no stray Close button, no "View site".
        assert page.is_visible("#timeline") and not page.is_visible("#conversation")
        # (unfold's folded-away mobile menu has a "close" icon: only what is on screen counts)
        assert page.locator("text=Close >> visible=true").count() == 0
        assert page.locator("text=View site >> visible=true").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        page.click(".bo-tabs >> text=Conversation")
        assert page.is_visible("#conversation") and not page.is_visible("#timeline")
        assert "The app says offline" in page.inner_text("#conversation")
        page.click(".bo-tabs >> text=Evidence")
        assert page.is_visible("#evidence")

        # "Add a comment" opens the timeline and puts the cursor in its box.
        page.click("#add-comment-button")
        assert page.is_visible("#timeline")
        assert page.evaluate("document.activeElement.id") == "comment_body"
        page.keyboard.type("Called the driver back")
        page.click("#comment-form [type=submit]")
        page.wait_for_selector("#main li >> text=Comment added")  # the success message
        assert page.is_visible("#timeline") and "Called the driver back" in page.inner_text("#timeline")
        page.screenshot(path=f"/tmp/cpr-report-page-{width}.png", full_page=True)
    finally:
        context.close()
