"""Need to know: a driver's contact details show to support, and to the
report's teams (installer and up) while the report is open, within the
team's own limit; masked everywhere else: report page, timeline, API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiKeyScope, Role
from accounts.services import api_key_create
from reporting.contact_visibility import driver_contact_visible
from reporting.models import Report
from reporting.reporters import Driver, report_file_by_driver
from reporting.services import report_resolve
from reporting.settings_services import report_settings_update
from tests.factories import ChargePointFactory, SupportUserFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    owner = TeamFactory(name="Owner A/S")
    charge_point = ChargePointFactory(site__team=owner)
    report = report_file_by_driver(
        charge_point=charge_point, reason="broken", description="Screen black",
        driver=Driver(name="Mette Hansen", email="mette@example.com", phone="+45 20 20 20 20"),
    ).report
    report_file_by_driver(
        charge_point=charge_point, reason="broken", description="Still black",
        driver=Driver(name="Mette H.", email="mette@example.com"),
    )
    return Report.objects.with_context().get(pk=report.pk)


def test_support_always_sees(filed):
    assert driver_contact_visible(actor=SupportUserFactory(), report=filed)


@pytest.mark.parametrize("role, sees", [(Role.VIEWER, False), (Role.INSTALLER, True), (Role.ADMIN, True)])
def test_the_teams_installers_and_up_see_while_open(filed, member_factory, role, sees):
    assert driver_contact_visible(actor=member_factory(filed.charge_point.owner, role), report=filed) is sees


def test_nobody_but_support_sees_after_resolution(filed, member_factory):
    admin = member_factory(filed.charge_point.owner, Role.ADMIN)
    report_resolve(report=filed, by=admin)
    filed.refresh_from_db()
    assert not driver_contact_visible(actor=admin, report=filed)
    assert driver_contact_visible(actor=SupportUserFactory(), report=filed)


def test_another_teams_admin_never_sees(filed, member_factory):
    assert not driver_contact_visible(actor=member_factory(TeamFactory(), Role.ADMIN), report=filed)


def test_a_team_may_shorten_the_time(filed, member_factory):
    team = filed.charge_point.owner
    admin = member_factory(team, Role.ADMIN)
    report_settings_update(team=team, email_updates=True, contacts=[], by=admin, driver_contact_days=2)
    assert driver_contact_visible(actor=member_factory(team, Role.ADMIN), report=filed)
    Report.objects.filter(pk=filed.pk).update(created_at=timezone.now() - timedelta(days=3))
    filed.refresh_from_db()
    assert not driver_contact_visible(actor=member_factory(team, Role.ADMIN), report=filed)


def test_an_api_key_needs_the_scope(filed):
    team, support = filed.charge_point.owner, SupportUserFactory()
    plain, _ = api_key_create(team=team, name="CSMS", role=Role.ADMIN, by=support)
    scoped, _ = api_key_create(team=team, name="Call-back", role=Role.ADMIN, by=support,
                               scopes=[ApiKeyScope.DRIVER_CONTACT])
    assert not driver_contact_visible(actor=plain, report=filed)
    assert driver_contact_visible(actor=scoped, report=filed)


def test_the_api_masks_the_reporter_without_the_scope(filed, client_for=None):
    from rest_framework.test import APIClient

    team, support = filed.charge_point.owner, SupportUserFactory()
    _, plain = api_key_create(team=team, name="CSMS", role=Role.ADMIN, by=support)
    _, scoped = api_key_create(team=team, name="Call-back", role=Role.ADMIN, by=support,
                               scopes=[ApiKeyScope.DRIVER_CONTACT])
    for raw, expected in ((plain, None), (scoped, "mette@example.com")):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        body = client.get(f"/api/v1/reports/{filed.pk}/").json()
        assert (body["reporter"] or {}).get("email") == expected
        listed = client.get("/api/v1/reports/").json()["results"]
        assert (listed[0]["reporter"] or {}).get("email") == expected
    # Nor can a key without the scope find reports by a driver's address.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert client.get("/api/v1/reports/", {"search": "mette@example.com"}).json()["results"] == []


def test_the_report_page_masks_details_timeline_and_names_for_a_viewer(client, filed, member_factory):
    client.force_login(member_factory(filed.charge_point.owner, Role.VIEWER))
    page = client.get(f"/operator/reporting/report/{filed.pk}/change/").content.decode()
    assert "contact details hidden" in page
    assert "mette@example.com" not in page and "Mette" not in page and "20 20 20 20" not in page
    assert "A driver reported this again." in page
    assert "Screen black" in page  # the problem itself stays


def test_the_report_page_shows_them_to_an_installer(client, filed, member_factory):
    client.force_login(member_factory(filed.charge_point.owner, Role.INSTALLER))
    page = client.get(f"/operator/reporting/report/{filed.pk}/change/").content.decode()
    assert "mette@example.com" in page and "Mette H." in page
