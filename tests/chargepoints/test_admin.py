"""Charge points and sites in the back-offices."""

import re

import pytest

from accounts.models import Role
from chargepoints.models import ChargePoint, Heartbeat
from reporting import services
from reporting.catalogue import Reason, Source
from tests.factories import ChargePointFactory, SiteFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_charge_point_list_shows_state_heartbeat_and_open_reports(client, support_user):
    cp = ChargePointFactory(name="Harbour 1", wifi_signal_dbm=-71)
    services.report_create(charge_point=cp, source=Source.USER, reason=Reason.BROKEN)
    services.report_create(charge_point=cp, source=Source.USER, reason=Reason.OTHER)
    client.force_login(support_user)
    html = client.get("/admin/chargepoints/chargepoint/").content.decode()
    assert "Harbour 1" in html and "-71" in html
    assert re.search(r'<td class="field-open_reports[^"]*"[^>]*>2</td>', html)


def test_charge_point_page_shows_open_reports_and_telemetry(client, support_user):
    cp = ChargePointFactory()
    report = services.report_create(charge_point=cp, source=Source.USER, reason=Reason.BROKEN)
    client.force_login(support_user)
    html = client.get(f"/admin/chargepoints/chargepoint/{cp.pk}/change/").content.decode()
    assert f"/admin/reporting/report/{report.pk}/change/" in html
    assert "Recent charges" in html or "Telemetry is not recorded" in html


def test_team_admin_edits_its_charge_point_but_not_its_owner(client, member_factory):
    cp = ChargePointFactory(name="Old name")
    other = TeamFactory()
    client.force_login(member_factory(cp.owner, Role.ADMIN))
    data = {"name": "New name", "site": cp.site_id, "owner": other.pk, "operator": other.pk,
            "serial_number": cp.serial_number, "ocpp_id": cp.ocpp_id, "vendor": "", "model": "",
            "firmware_version": "", "connectivity": "wifi"}
    response = client.post(f"/operator/chargepoints/chargepoint/{cp.pk}/change/", data)
    assert response.status_code == 302
    cp.refresh_from_db()
    assert (cp.name, cp.owner_id, cp.connectivity) == ("New name", cp.site.team_id, "wifi")


def test_installer_sees_the_charge_point_read_only(client, member_factory):
    cp = ChargePointFactory(name="Keep me")
    client.force_login(member_factory(cp.owner, Role.INSTALLER))
    html = client.get(f"/operator/chargepoints/chargepoint/{cp.pk}/change/").content.decode()
    assert 'name="name"' not in html
    client.post(f"/operator/chargepoints/chargepoint/{cp.pk}/change/", {"name": "Changed"})
    assert ChargePoint.objects.get(pk=cp.pk).name == "Keep me"


def test_team_admin_registers_a_charge_point_only_for_its_own_team(client, member_factory):
    team, other = TeamFactory(), TeamFactory()
    site = SiteFactory(team=team)
    client.force_login(member_factory(team, Role.ADMIN))
    base = {"name": "New", "site": site.pk, "serial_number": "S1", "ocpp_id": "NEW-1", "vendor": "", "model": "",
            "firmware_version": "", "connectivity": "ethernet"}
    response = client.post("/operator/chargepoints/chargepoint/add/", {**base, "owner": other.pk, "operator": other.pk})
    assert response.status_code == 200 and not ChargePoint.objects.filter(ocpp_id="NEW-1").exists()
    response = client.post("/operator/chargepoints/chargepoint/add/", {**base, "owner": team.pk, "operator": team.pk})
    assert response.status_code == 302 and ChargePoint.objects.get(ocpp_id="NEW-1").owner == team


def test_site_page_lists_its_charge_points(client, support_user):
    site = SiteFactory(name="Harbour car park")
    ChargePointFactory(site=site, name="Bay 1")
    ChargePointFactory(site=site, name="Bay 2")
    client.force_login(support_user)
    html = client.get(f"/admin/chargepoints/site/{site.pk}/change/").content.decode()
    assert "Charge points at this site (2)" in html and "Bay 1" in html and "Bay 2" in html


def test_deleting_a_charge_point_with_telemetry_in_the_admin_says_why_and_keeps_it(client, support_user):
    cp = ChargePointFactory()
    Heartbeat.objects.create(charge_point=cp, event_id="hb-admin", occurred_at=cp.state_since)
    client.force_login(support_user)
    response = client.post(f"/admin/chargepoints/chargepoint/{cp.pk}/delete/", {"post": "yes"}, follow=True)
    assert "it is kept so that history stays whole" in response.content.decode()
    assert Heartbeat.objects.filter(charge_point=cp).exists()
    assert ChargePoint.objects.filter(pk=cp.pk).exists()

