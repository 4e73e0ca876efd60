"""accounts/admin_sites.py: both sites in django-unfold's theme, their sidebar
(dashboard and reports first, only what the user may open), titles, and
pages that load nothing from the internet."""

import re

import pytest

from accounts.models import Role
from chargepoints.models import ChargePointState
from tests.factories import ChargePointFactory, TeamFactory

pytestmark = pytest.mark.django_db


def sidebar_links(html: str) -> list[str]:
    nav = html[html.index('id="nav-sidebar-apps"'):]
    nav = nav[:nav.index("</nav>")] if "</nav>" in nav else nav
    return re.findall(r'<a href="([^"]+)"', nav)


def test_support_sidebar_starts_with_the_dashboard_and_reports(client, support_user):
    client.force_login(support_user)

    links = sidebar_links(client.get("/admin/").content.decode())

    assert links[:2] == ["/admin/", "/admin/reporting/report/"]
    assert "/admin/accounts/user/" in links and "/admin/reporting/healthchecksettings/" in links
    assert links.count("/admin/reporting/report/") == 1  # pinned, not listed again under its app


def test_operator_sidebar_lists_only_what_the_role_may_open(client, member_factory):
    team = TeamFactory()
    client.force_login(member_factory(team, Role.VIEWER))
    viewer = sidebar_links(client.get("/operator/").content.decode())
    client.force_login(member_factory(team, Role.ADMIN))
    admin = sidebar_links(client.get("/operator/").content.decode())

    assert viewer[:2] == admin[:2] == ["/operator/", "/operator/reporting/report/"]
    assert "/operator/accounts/apikey/" in admin and "/operator/accounts/apikey/" not in viewer
    assert not [link for link in viewer if link.startswith("/admin/")]
    assert "/operator/reporting/healthchecksettings/" not in admin  # support's only, not on this site


def test_each_site_has_its_title_and_no_view_site_link(client, support_user, member_factory):
    login = client.get("/operator/login/").content.decode()
    assert "Operator back-office" in login and "Return to site" not in login

    client.force_login(support_user)
    html = client.get("/admin/").content.decode()
    assert "Support back-office" in html and "Charge point reports" in html
    assert "View site" not in html


def test_pages_load_nothing_from_the_internet(client, support_user):
    pages = [client.get("/admin/login/")]
    client.force_login(support_user)
    pages += [client.get(url) for url in ["/admin/", "/admin/chargepoints/chargepoint/"]]
    for response in pages:
        url, html = response.request["PATH_INFO"], response.content.decode()
        assert response.status_code == 200, url
        external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="((?:https?:)?//[^"]+)"', html)
        assert external == [], url
        assert "/static/unfold/css/styles.css" in html


def test_a_charge_point_in_error_shows_a_red_state_label(client, support_user):
    ChargePointFactory(name="Broken one", state=ChargePointState.ERROR)
    client.force_login(support_user)

    html = client.get("/admin/chargepoints/chargepoint/").content.decode()

    cell = re.search(r'<td class="field-state_badge[^"]*"[^>]*>(.*?)</td>', html, re.S).group(1)
    assert "Error" in cell and "bg-red-100" in cell
