"""The error hint in the API: a hint object or null on reports and charge
points, documented in the schema (docs/error-hints.md)."""

import pytest

from reporting import services
from reporting.catalogue import Reason, Source
from tests.factories import ChargePointFactory, SiteFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def erring():
    owner = TeamFactory(name="Owner Energy", language="en", country="DK")
    operator = TeamFactory(name="Operatør ApS", language="da", country="DK")
    return ChargePointFactory(site=SiteFactory(team=owner), owner=owner, operator=operator, state="error",
                              error_code="HighTemperature", vendor_error_code="T-88")


def test_the_api_gives_the_hint_object_or_null(erring, make_key, client_for):
    _key, raw = make_key(erring.operator)
    api = client_for(raw)
    fine = ChargePointFactory(site=erring.site, owner=erring.owner, operator=erring.operator)
    report = services.report_create(charge_point=erring, source=Source.SYSTEM, reason=Reason.IN_ERROR)

    hints = {row["id"]: row["hint"] for row in api.get("/api/v1/charge-points/").json()["results"]}
    assert hints[fine.pk] is None
    assert hints[erring.pk]["code"] == "HighTemperature"
    assert hints[erring.pk]["party"] == "owner"
    assert hints[erring.pk]["vendor_error_code"] == "T-88"
    assert api.get(f"/api/v1/charge-points/{erring.pk}/").json()["hint"]["code"] == "HighTemperature"
    danish = api.get(f"/api/v1/reports/{report.pk}/", HTTP_ACCEPT_LANGUAGE="da").json()["hint"]
    assert (danish["title"], danish["party_label"]) == ("For høj temperatur", "Ejerteam")
    assert api.get("/api/v1/reports/").json()["results"][0]["hint"]["code"] == "HighTemperature"


def test_the_schema_documents_the_hint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    assert "hint" in components["Report"]["properties"]
    assert "hint" in components["ChargePoint"]["properties"]
    assert "ErrorHint" in components


