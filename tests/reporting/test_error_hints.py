"""The error-hint catalogue (reporting/error_hints.py), support's vendor
error codes, where the hint shows, and routing "in error" reports by it."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from accounts.models import AuditLog, Role
from chargepoints.models import Connector
from reporting import services
from reporting.catalogue import Party, Reason, Source
from reporting.error_hint_selectors import error_hint_for, error_hint_for_charge_point
from reporting.error_hint_services import vendor_error_code_save
from reporting.error_hints import CATALOGUE, CHARGEX, OCPP, ROUTE_TO, ActingParty
from reporting.health.sweep import health_sweep
from reporting.models import Report, ReportSettings, VendorErrorCode
from reporting.settings_services import report_settings_update
from tests.factories import ChargePointFactory, SiteFactory, TeamFactory

pytestmark = pytest.mark.django_db

# OCPP 1.6 edition 2, 7.6 ChargePointErrorCode: the whole enumeration.
OCPP_16_ERROR_CODES = {
    "ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature", "InternalError",
    "LocalListConflict", "NoError", "OtherError", "OverCurrentFailure", "OverVoltage", "PowerMeterFailure",
    "PowerSwitchFailure", "ReaderFailure", "ResetFailure", "UnderVoltage", "WeakSignal",
}


def test_the_catalogue_covers_every_ocpp_16_code_and_each_entry_is_complete():
    assert {code for code, entry in CATALOGUE.items() if entry.source == OCPP} == OCPP_16_ERROR_CODES
    assert len([entry for entry in CATALOGUE.values() if entry.source == CHARGEX]) >= 15
    for entry in CATALOGUE.values():
        assert entry.party in ActingParty.values
        assert str(entry.hint) and str(entry.first_step) and str(entry.title)
    assert set(ROUTE_TO) == set(ActingParty.values)
    assert set(ROUTE_TO.values()) <= {Party.OWNER, Party.OPERATOR}


def test_every_catalogue_string_has_a_danish_translation():
    for entry in CATALOGUE.values():
        for text in (entry.title, entry.hint, entry.first_step):
            with translation.override("en"):
                english = str(text)
            with translation.override("da"):
                assert str(text) != english, f"{entry.code}: {english!r} is not translated"


def test_the_generic_code_gives_its_hint_in_danish_and_no_error_gives_none():
    with translation.override("da"):
        hint = error_hint_for(vendor="Alfen", error_code="GroundFailure")
    assert hint["code"] == "GroundFailure"
    assert hint["title"] == "Jordfejl"
    assert hint["party"] == "installer" and hint["party_label"] == "Installatør"
    assert "elinstallatør" in hint["first_step"]
    assert error_hint_for(error_code="NoError") is None
    assert error_hint_for(error_code="") is None
    assert error_hint_for(error_code="SomethingUnknown") is None
    # A ChargeX code sent as the vendor error code.
    assert error_hint_for(error_code="OtherError", vendor_error_code="CX_EMERGENCY_STOP")["code"] == "OtherError"
    assert error_hint_for(error_code="", vendor_error_code="CX_EMERGENCY_STOP")["code"] == "CX_EMERGENCY_STOP"


def test_a_vendor_mapping_wins_over_the_generic_code_and_the_model_over_any_model(support_user):
    vendor_error_code_save(mapping=VendorErrorCode(vendor="Alfen", vendor_error_code="E17", code="CX_DISPLAY"),
                           by=support_user)
    vendor_error_code_save(mapping=VendorErrorCode(vendor="alfen", model="Eve Single Pro", vendor_error_code="E17",
                                                   code="CX_EMERGENCY_STOP", hint="Red button on the side."),
                           by=support_user)

    pro = error_hint_for(vendor="ALFEN", model="Eve Single Pro", error_code="OtherError", vendor_error_code="E17")
    assert (pro["code"], pro["hint"], pro["vendor_error_code"]) == ("CX_EMERGENCY_STOP", "Red button on the side.", "E17")
    other_model = error_hint_for(vendor="Alfen", model="Eve Double", error_code="OtherError", vendor_error_code="E17")
    assert other_model["code"] == "CX_DISPLAY"
    other_vendor = error_hint_for(vendor="Zaptec", model="Go", error_code="OtherError", vendor_error_code="E17")
    assert other_vendor["code"] == "OtherError"
    assert AuditLog.objects.filter(object_type="reporting.vendorerrorcode").count() == 2


def test_only_support_maps_vendor_codes_and_a_duplicate_or_unknown_entry_is_refused(support_user):
    from core.errors import Conflict, Invalid, NotAllowed
    from tests.factories import UserFactory

    with pytest.raises(NotAllowed):
        vendor_error_code_save(mapping=VendorErrorCode(vendor="A", vendor_error_code="1", code="InternalError"),
                               by=UserFactory())
    with pytest.raises(Invalid):
        vendor_error_code_save(mapping=VendorErrorCode(vendor="A", vendor_error_code="1", code="Nope"),
                               by=support_user)
    vendor_error_code_save(mapping=VendorErrorCode(vendor="A", vendor_error_code="1", code="InternalError"),
                           by=support_user)
    with pytest.raises(Conflict):
        vendor_error_code_save(mapping=VendorErrorCode(vendor="a", vendor_error_code="1", code="OtherError"),
                               by=support_user)
    assert VendorErrorCode.objects.count() == 1


def test_a_charge_point_without_its_own_code_takes_its_connectors():
    cp = ChargePointFactory(state="error")
    Connector.objects.create(charge_point=cp, number=1, state="available", state_since=timezone.now(),
                             reported_at=timezone.now(), error_code="NoError")
    Connector.objects.create(charge_point=cp, number=2, state="error", state_since=timezone.now(),
                             reported_at=timezone.now(), error_code="ConnectorLockFailure")
    hint = error_hint_for_charge_point(cp)
    assert (hint["code"], hint["connector"]) == ("ConnectorLockFailure", 2)


# --- where it shows ---------------------------------------------------------------


@pytest.fixture
def erring():
    owner = TeamFactory(name="Owner Energy", language="en", country="DK")
    operator = TeamFactory(name="Operatør ApS", language="da", country="DK")
    cp = ChargePointFactory(site=SiteFactory(team=owner), owner=owner, operator=operator, state="error",
                            error_code="HighTemperature", vendor_error_code="T-88")
    return cp


def test_the_support_admin_shows_the_hint_on_report_and_charge_point_pages(client, support_user, erring):
    report = services.report_create(charge_point=erring, source=Source.SYSTEM, reason=Reason.IN_ERROR)
    client.force_login(support_user)
    for url in (f"/admin/reporting/report/{report.pk}/change/", f"/admin/chargepoints/chargepoint/{erring.pk}/change/"):
        page = client.get(url).content.decode()
        assert 'id="error-hint"' in page, url
        assert "Temperature too high" in page and "vendor code T-88" in page
        assert "Likely to act: <strong>Team owner</strong>" in page


def test_the_operator_admin_shows_the_hint_and_a_page_without_error_shows_none(client, erring):
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(language="en")  # the team's language is Danish; this person chose English
    MembershipFactory(user=user, team=erring.operator, role=Role.ADMIN)
    client.force_login(user)
    report = services.report_create(charge_point=erring, source=Source.SYSTEM, reason=Reason.IN_ERROR)
    assert "Temperature too high" in client.get(f"/operator/reporting/report/{report.pk}/change/").content.decode()
    fine = ChargePointFactory(site=erring.site, owner=erring.owner, operator=erring.operator)
    page = client.get(f"/operator/chargepoints/chargepoint/{fine.pk}/change/").content.decode()
    assert 'id="error-hint"' not in page


# --- routing by the hint -----------------------------------------------------------


@pytest.mark.parametrize(("on", "error_code", "party"), [
    (False, "HighTemperature", Party.OPERATOR),   # off: the table
    (True, "HighTemperature", Party.OWNER),       # owner acts
    (True, "UnderVoltage", Party.OWNER),          # grid -> owner
    (True, "InternalError", Party.OPERATOR),      # manufacturer -> operator
    (True, "SomethingUnknown", Party.OPERATOR),   # no hint: the table
])
def test_the_sweep_routes_in_error_reports_by_the_hint_where_the_operator_turned_it_on(
        erring, support_user, on, error_code, party):
    from tests.factories import MembershipFactory, UserFactory

    admin = UserFactory()
    MembershipFactory(user=admin, team=erring.operator, role=Role.ADMIN)
    report_settings_update(team=erring.operator, email_updates=True, contacts=[], by=admin, route_by_error_hint=on)
    assert ReportSettings.objects.get(team=erring.operator).route_by_error_hint is on
    now = timezone.now()
    type(erring).objects.filter(pk=erring.pk).update(error_code=error_code, state_since=now - timedelta(hours=1))

    health_sweep(now=now)

    report = Report.objects.get(charge_point=erring, reason=Reason.IN_ERROR)
    assert report.assigned_party == party
    assert report.events.get().to_party == party


def test_report_create_routes_by_the_hint_too_and_the_setting_is_off_by_default(erring):
    assert ReportSettings.objects.get_or_create(team=erring.operator)[0].route_by_error_hint is False
    report = services.report_create(charge_point=erring, source=Source.SYSTEM, reason=Reason.IN_ERROR)
    assert report.assigned_party == Party.OPERATOR
    ReportSettings.objects.filter(team=erring.operator).update(route_by_error_hint=True)
    Report.objects.all().delete()
    report = services.report_create(charge_point=erring, source=Source.SYSTEM, reason=Reason.IN_ERROR)
    assert report.assigned_party == Party.OWNER


# --- support's admin -----------------------------------------------------------------


def test_support_adds_searches_and_filters_vendor_codes_in_the_admin(client, support_user):
    client.force_login(support_user)
    response = client.post("/admin/reporting/vendorerrorcode/add/", {
        "vendor": " Zaptec ", "model": "", "vendor_error_code": "0x2A", "code": "CX_RFID_READER", "hint": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    mapping = VendorErrorCode.objects.get()
    assert (mapping.vendor, mapping.code) == ("Zaptec", "CX_RFID_READER")
    assert AuditLog.objects.filter(object_type="reporting.vendorerrorcode", action="create").exists()
    page = client.get("/admin/reporting/vendorerrorcode/?q=0x2A").content.decode()
    assert "0x2A" in page and "any model" in page and "Manufacturer" in page
    assert "0x2A" not in client.get("/admin/reporting/vendorerrorcode/?source=ocpp").content.decode()
    assert "0x2A" in client.get("/admin/reporting/vendorerrorcode/?source=chargex").content.decode()


def test_operators_do_not_see_vendor_codes(client, team):
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory()
    MembershipFactory(user=user, team=team, role=Role.ADMIN)
    client.force_login(user)
    assert client.get("/operator/reporting/vendorerrorcode/").status_code in (403, 404)
    assert client.get("/admin/reporting/vendorerrorcode/").status_code in (302, 403, 404)


def test_the_team_turns_routing_by_the_hint_on_in_its_report_settings(client, team):
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory()
    MembershipFactory(user=user, team=team, role=Role.ADMIN)
    client.force_login(user)
    settings = ReportSettings.objects.get_or_create(team=team)[0]
    url = f"/operator/reporting/reportsettings/{settings.pk}/change/"
    assert "route_by_error_hint" in client.get(url).content.decode()
    response = client.post(url, {
        "email_updates": "on", "delivery": "immediate", "digest_minutes": "15", "driver_contact_days": "", "self_heal_minutes": "5", "route_by_error_hint": "on",
        "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0", "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000", "_save": "1",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ReportSettings.objects.get(team=team).route_by_error_hint is True
