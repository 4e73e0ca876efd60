"""The reports list in Chromium at laptop sizes: the table fits its
container (state, assignee, age and occurrences on screen) and the views
above it work."""

import pytest

from reporting import services
from reporting.catalogue import Party, Reason, Source
from tests.factories import PASSWORD, ChargePointFactory, SiteFactory, SupportUserFactory, TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [(1280, 800), (1440, 900)]


@pytest.fixture
def reports():
    owner = TeamFactory(name="Nordhavn Property Management International", country="DK")
    operator = TeamFactory(name="Voltway Charging Operations Scandinavia", country="DK")
    site = SiteFactory(team=owner, name="Harbour multi-storey car park, level minus two", city="Aarhus")
    support = SupportUserFactory(email="support@example.com", first_name="Sam", last_name="Support")
    made = []
    for i in range(1, 8):
        cp = ChargePointFactory(site=site, owner=owner, operator=operator,
                                name=f"Harbour level -2 bay {i} (north wall)", ocpp_id=f"VW-HARBOUR-L2-{i:04d}")
        made.append(services.report_create(charge_point=cp, source=Source.USER, reason=Reason.PARKING_BLOCKED,
                                           description="Blocked", reporter_name="Mila"))
    services.report_assign(report=made[0], party=Party.SUPPORT, person=support, by=support)
    services.report_resolve(report=made[1], by=support, note="Cleared")
    return {"support": support, "reports": made}


def _log_in(page, live_server, email):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_selector("#dashboard")


def _overflow(page) -> dict:
    return page.evaluate("""() => {
        const table = document.querySelector('#result_list');
        // unfold wraps the table in a scroll box (simplebar puts its own
        // scrolling element inside it): the table must not make either scroll.
        const box = table.closest('[data-simplebar]') || table.parentElement;
        const scroller = table.closest('.simplebar-content-wrapper') || box;
        return {table: Math.ceil(table.getBoundingClientRect().width), box: Math.floor(box.clientWidth),
                scroll: Math.max(box.scrollWidth, scroller.scrollWidth - scroller.clientWidth + box.clientWidth),
                page: document.documentElement.scrollWidth,
                viewport: window.innerWidth};
    }""")


@pytest.mark.parametrize("menu", ["default", "open"])
@pytest.mark.parametrize("width,height", SIZES)
def test_the_list_fits_the_screen(browser, live_server, reports, width, height, menu):
    """A first visit (unfold shows its sidebar from 1280 px on unless the
    user folded it) and a user who opened the sidebar: either way no
    sideways scroll."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    if menu == "open":
        # unfold keeps the sidebar's state in localStorage (its Alpine `sidebarDesktopOpen`).
        context.add_init_script("localStorage.setItem('sidebarDesktopOpen', '1')")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        _log_in(page, live_server, "support@example.com")
        page.goto(f"{live_server.url}/admin/reporting/report/")
        page.wait_for_selector("#result_list")
        if menu == "open":
            assert page.is_visible("#nav-sidebar")
        sizes = _overflow(page)
        assert sizes["table"] <= sizes["box"] and sizes["scroll"] <= sizes["box"], sizes
        assert sizes["page"] <= sizes["viewport"], sizes
        # The columns that used to be off-screen are inside the viewport.
        for column in ("state_col", "assigned_col", "age", "occurrences_col"):
            box = page.locator(f"#result_list th.column-{column}").bounding_box()
            assert box is not None and box["x"] + box["width"] <= width, column
    finally:
        context.close()


def test_quick_views_switch_the_list(page, live_server, reports):
    _log_in(page, live_server, "support@example.com")
    page.goto(f"{live_server.url}/admin/reporting/report/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 6  # unresolved: the resolved one is not there
    assert page.get_attribute("#quick-views a.active", "data-view") == "unresolved"

    page.click("#quick-views >> text=Assigned to me")
    page.wait_for_url("**view=mine**")
    assert page.get_attribute("#quick-views a.active", "data-view") == "mine"
    assert rows.count() == 1 and "bay 1 " in rows.first.inner_text()

    page.click("#quick-views >> text=Unassigned")
    page.wait_for_url("**view=unassigned**")
    assert rows.count() == 5

    page.click("#quick-views >> text=All")
    page.wait_for_url("**state=all**")
    assert page.get_attribute("#quick-views a.active", "data-view") == "all"
    assert rows.count() == 7
