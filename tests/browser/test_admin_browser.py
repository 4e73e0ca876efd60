"""The back-office in a real browser: support works a report from the list
to resolved; an operator sees only its own team's reports. Screenshots of
the main screens are saved under docs/screenshots/."""

import os
import re
import tempfile
from pathlib import Path

import pytest

from accounts.models import Role
from reporting import services
from reporting.catalogue import Reason, Source
from reporting.models import EventKind, ReportState
from tests.factories import (
    PASSWORD,
    ChargePointFactory,
    MembershipFactory,
    SiteFactory,
    SupportUserFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# SAVE_SCREENSHOTS=1 refreshes the committed pictures in docs/screenshots/;
# otherwise they go to a scratch folder, so a test run leaves the tree clean.
SHOTS = (Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
         if os.environ.get("SAVE_SCREENSHOTS") == "1"
         else Path(tempfile.gettempdir()) / "cpr-screenshots")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def fleet():
    voltway = TeamFactory(name="Voltway Charging", country="DK")
    greenpark = TeamFactory(name="Greenpark Properties", country="NL")
    harbour = SiteFactory(team=voltway, name="Harbour car park", city="Aarhus", country="DK")
    mall = SiteFactory(team=greenpark, name="Greenpark mall", city="Utrecht", country="NL")
    cps = [ChargePointFactory(site=harbour, name=f"Harbour {i}", ocpp_id=f"VW-HARB-{i}") for i in range(1, 4)]
    mall_cp = ChargePointFactory(site=mall, name="Mall entrance", ocpp_id="GP-MALL-1")
    support = SupportUserFactory(email="support@example.com", first_name="Sam", last_name="Support")
    owner = UserFactory(email="owner@voltway.example", first_name="Olivia", last_name="Owner")
    MembershipFactory(user=owner, team=voltway, role=Role.OWNER)
    reports = [
        services.report_create(charge_point=cps[0], source=Source.USER, reason=Reason.NOT_WORKING,
                               description="Screen stays black", reporter_name="Mila"),
        services.report_create(charge_point=cps[1], source=Source.USER, reason=Reason.PARKING_BLOCKED,
                               description="A van parks here every night"),
        services.report_create(charge_point=cps[2], source=Source.SUPPORT, reason=Reason.CONVERSATION,
                               by=support, description="Driver could not start a charge",
                               messages=[{"sender": "driver", "author_name": "Jan", "body": "The app says offline"}]),
        services.report_create(charge_point=cps[0], source=Source.USER, reason=Reason.TAX_REFUND,
                               description="Refund form missing"),
    ]
    other = services.report_create(charge_point=mall_cp, source=Source.USER, reason=Reason.BROKEN,
                                   description="Greenpark secret: holder cracked")
    return {"support": support, "owner": owner, "reports": reports, "other": other}


def log_in(page, live_server, prefix, email):
    page.goto(f"{live_server.url}/{prefix}/login/?next=/{prefix}/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_selector("#dashboard")


def test_support_filters_assigns_to_the_owner_resolves_and_sees_the_timeline(page, live_server, fleet):
    log_in(page, live_server, "admin", "support@example.com")
    shot(page, "dashboard-support")

    page.goto(f"{live_server.url}/admin/reporting/report/")
    page.click("text=Filters")  # the filters are in a side panel
    page.click("#changelist-filter >> text=Charge point is not working")
    page.wait_for_url("**reason__exact=not_working**")
    page.wait_for_load_state()
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "Screen stays black" not in rows.first.inner_text()  # the list shows columns, not text
    assert "Harbour 1" in rows.first.inner_text()
    page.goto(f"{live_server.url}/admin/reporting/report/")
    shot(page, "reports-list")

    report = fleet["reports"][0]
    page.goto(f"{live_server.url}/admin/reporting/report/{report.pk}/change/")
    page.click("#report-actions >> text=Assign…")
    page.check("input[name=party][value=owner]")
    page.select_option("select[name=person]", label="Olivia Owner")
    page.fill("textarea[name=note]", "Please check the display")
    shot(page, "assign-confirmation")
    page.click("input[value='Yes, assign']")
    page.wait_for_selector("#main li >> text=assigned to the team owner")  # the success message
    assert "Team owner: Olivia Owner" in page.inner_text("#assigned-to")

    page.click("#report-actions >> text=Resolve…")
    page.fill("textarea[name=note]", "Display replaced on site")
    page.click("input[value='Yes, resolve']")
    page.wait_for_selector("#timeline >> text=Display replaced on site")
    timeline = page.inner_text("#timeline")
    assert re.search(r"Assigned.*Open → Assigned", timeline, re.S)  # states by their labels
    assert "Display replaced on site" in timeline and "Resolved" in timeline
    shot(page, "report-page")

    report.refresh_from_db()
    assert report.state == ReportState.RESOLVED and report.assigned_party == "owner"
    assert list(report.events.values_list("kind", flat=True)) == [
        EventKind.CREATED, EventKind.ASSIGNED, EventKind.RESOLVED]

    page.goto(f"{live_server.url}/admin/reporting/report/{fleet['reports'][2].pk}/change/")
    assert "The app says offline" in page.inner_text("#conversation")
    shot(page, "support-conversation")


def test_operator_sees_only_its_own_teams_reports_and_is_refused_another_by_url(page, live_server, fleet):
    log_in(page, live_server, "operator", "owner@voltway.example")
    shot(page, "dashboard-operator")
    page.goto(f"{live_server.url}/operator/reporting/report/")
    listing = page.inner_text("#result_list")
    assert "Harbour 1" in listing and "Mall entrance" not in listing
    assert page.locator("#result_list tbody tr").count() == 4
    shot(page, "operator-reports")

    page.goto(f"{live_server.url}/operator/reporting/report/{fleet['other'].pk}/change/")
    body = page.inner_text("body")
    assert "doesn’t exist" in body or "doesn't exist" in body
    assert "Greenpark secret" not in page.content()
    assert page.url.rstrip("/").endswith("/operator")

    page.goto(f"{live_server.url}/operator/reporting/reportsettings/")
    assert page.locator("input[value=Update]").count() == 1
    shot(page, "report-settings")

    page.goto(f"{live_server.url}/operator/chargepoints/chargepoint/{fleet['reports'][0].charge_point_id}/change/")
    assert "open reports" in page.inner_text("#charge-point-glance").lower()
    shot(page, "charge-point")
