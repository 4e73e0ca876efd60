"""The back-office's own 403/404/500 pages and the favicon."""

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory, override_settings
from django.views import defaults

from accounts.models import Role
from tests.factories import ReportFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_an_unknown_address_gets_the_styled_404(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "There is no such page" in html and "/no/such/page/" in html
    assert 'href="/operator/"' in html and 'rel="icon"' in html


def test_a_report_of_another_team_is_a_styled_404(client, member_factory):
    report = ReportFactory()
    client.force_login(member_factory(TeamFactory(), Role.ADMIN))

    response = client.get(f"/operator/reporting/report/{report.pk}/assign/")

    assert response.status_code == 404
    assert "There is no such page" in response.content.decode()


def test_permission_denied_gets_the_styled_403(client, member_factory):
    report = ReportFactory()
    client.force_login(member_factory(report.charge_point.operator, Role.VIEWER))

    response = client.get("/operator/reporting/report/add/")  # a viewer may not file reports

    assert response.status_code == 403
    assert "You may not open this page" in response.content.decode()


def test_the_500_page_renders_without_a_request_context():
    # Django renders 500.html with an empty Context: no request, no user.
    response = defaults.server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html and "Error 500" in html


def test_an_unhandled_error_answers_with_the_500_page():
    with override_settings(ROOT_URLCONF="tests.config.broken_urls"):
        response = Client(raise_request_exception=False).get("/broken/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_favicon_answers_and_pages_link_it(client, support_user):
    response = client.get("/favicon.ico")

    assert response.status_code == 302 and response["Location"] == settings.STATIC_URL + "favicon.ico"
    assert "max-age=86400" in response["Cache-Control"]
    for name in ["favicon.ico", "favicon.svg", "apple-touch-icon.png"]:
        assert finders.find(name), name
    with open(finders.find("favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file
    assert 'rel="icon" href="/static/favicon.ico"' in client.get("/operator/login/").content.decode()
    assert 'rel="icon" href="/static/favicon.ico"' in client.get("/privacy/").content.decode()  # the drivers' pages
    client.force_login(support_user)
    assert 'rel="icon" href="/static/favicon.ico"' in client.get("/admin/").content.decode()


def test_whitenoise_serves_the_favicon_the_root_points_to():
    middleware = [*settings.MIDDLEWARE]
    middleware.insert(middleware.index("django.middleware.security.SecurityMiddleware") + 1,
                      "whitenoise.middleware.WhiteNoiseMiddleware")
    with override_settings(MIDDLEWARE=middleware, WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True):
        client = Client()
        location = client.get("/favicon.ico")["Location"]
        response = client.get(location)
        assert response.status_code == 200
        assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
