"""A Danish user's back-office in Chromium: the main screens (reports list,
report page, dashboard, report settings) show no English words, only Danish text and proper
names. The language is the user's (their team's here), whatever the
browser asks for."""

import re

import pytest

from accounts.models import Role, Team
from reporting import services
from reporting.catalogue import Party, Reason, Source
from tests.factories import (
    PASSWORD,
    ChargePointFactory,
    MembershipFactory,
    SiteFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Words a page in English is made of and a Danish page never needs (words
# that are Danish too, such as "team", "for", "at" or "over", are left out).
ENGLISH = set("""
about action actions add added ago all and any are assign assigned assignee back by change changed charge
charges charging clear comment comments conversation created dashboard date day days details disconnected
download edit e-mails email evidence export failed file filed filter filters from has have history hour hours
is last left minute minutes month months most my newest no none not nothing of oldest only open or out
owner party password per point points reason reasons reopen report reported reports resolve resolved results
save search select selected show since site sites source start state targets the their this timeline to
today unassigned unresolved user view views waiting was week weeks welcome what when where which who with
yes you your
""".split())
# Proper names and codes the pages may show as they are.
ALLOWED = {"ocpp", "csv", "id", "api", "wifi", "wi-fi", "e-mail", "e-mails"}


def english_words(text: str) -> list[str]:
    words = re.findall(r"[A-Za-zÆØÅæøå][A-Za-zÆØÅæøå'-]*", text)
    return sorted({word for word in words if word.lower() in ENGLISH and word.lower() not in ALLOWED})


@pytest.fixture
def danish_team_member():
    team = TeamFactory(name="Ladefirma Nord", country="DK", language=Team.Language.DANISH)
    site = SiteFactory(team=team, name="Havnen P-hus", city="Aarhus", country="DK")
    user = UserFactory(email="mette@ladefirma.example", first_name="Mette", last_name="Madsen")
    MembershipFactory(user=user, team=team, role=Role.ADMIN)
    cps = [ChargePointFactory(site=site, owner=team, operator=team, name=f"Havnen {i}", ocpp_id=f"LN-HAV-{i}")
           for i in (1, 2)]
    first = services.report_create(charge_point=cps[0], source=Source.USER, reason=Reason.NOT_WORKING,
                                   description="Skærmen er sort", reporter_name="Jens")
    services.report_assign(report=first, party=Party.OWNER, person=user, by=user, note="Jeg kigger på den")
    services.report_comment(report=first, by=user, body="Tekniker er bestilt")
    services.report_create(charge_point=cps[1], source=Source.USER, reason=Reason.PARKING_BLOCKED,
                           description="Bil holder her")
    return {"user": user, "report": first}


@pytest.fixture
def danish_page(browser):
    # The browser asks for English: the user's language must win.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB",
                                  extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _log_in(page, live_server):
    page.goto(f"{live_server.url}/operator/login/?next=/operator/")
    page.fill("#id_username", "mette@ladefirma.example")
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_selector("#dashboard")


def _assert_danish(page, where: str) -> None:
    # The sidebar and the main column (unfold's #page), read as the user sees
    # them: unfold's icons are Material Symbols ligatures whose text
    # ("dashboard", "dock_to_right") is drawn as a picture, not read.
    text = page.evaluate("""() => {
        const icons = [...document.querySelectorAll('#page .material-symbols-outlined')];
        const names = icons.map(icon => icon.textContent);
        icons.forEach(icon => { icon.textContent = ''; });
        const text = document.querySelector('#page').innerText;
        icons.forEach((icon, i) => { icon.textContent = names[i]; });
        return text;
    }""")
    lines = [line.strip() for line in text.splitlines() if english_words(line)]
    assert not lines, f"English on the {where}: {lines}"


def test_a_danish_users_main_screens_have_no_english_left(danish_page, live_server, danish_team_member):
    page = danish_page
    _log_in(page, live_server)
    assert page.get_attribute("html", "lang") == "da"
    _assert_danish(page, "dashboard")

    page.goto(f"{live_server.url}/operator/reporting/report/")
    page.wait_for_selector("#result_list")
    _assert_danish(page, "reports list")
    page.click("#quick-views >> text=Tildelt mig")
    page.wait_for_url("**view=mine**")
    _assert_danish(page, "reports list, assigned to me")

    page.goto(f"{live_server.url}/operator/reporting/report/{danish_team_member['report'].pk}/change/")
    page.wait_for_selector("#report-header")
    _assert_danish(page, "report page")
    for tab in ("Samtale", "Dokumentation", "E-mails"):
        page.click(f".bo-tabs >> text={tab}")
        _assert_danish(page, f"report page, tab {tab}")

    page.goto(f"{live_server.url}/operator/reporting/reportsettings/")
    page.wait_for_selector("#content-main")
    _assert_danish(page, "report settings")



def _switch_language(page, code: str) -> None:
    """The switch is in the user menu at the foot of the sidebar."""
    page.locator("[x-on\\:click='openUserLinks = !openUserLinks']").click()
    page.locator(f"form[action$='/language/']:has(input[name=language][value={code}]) button").click()


def test_the_language_switch_in_the_header_changes_the_pages(danish_page, live_server, danish_team_member):
    page = danish_page
    _log_in(page, live_server)
    page.goto(f"{live_server.url}/operator/reporting/report/")
    _switch_language(page, "en")
    page.wait_for_load_state()
    page.wait_for_selector("#quick-views >> text=Assigned to me")
    assert page.get_attribute("html", "lang") == "en"
    user = danish_team_member["user"]
    user.refresh_from_db()
    assert user.language == "en"
    _switch_language(page, "da")
    page.wait_for_selector("#quick-views >> text=Tildelt mig")
