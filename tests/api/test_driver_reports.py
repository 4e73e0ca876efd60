"""The platform key (the drivers' app): files driver reports for any charge
point and reads back its own; every other endpoint answers 403."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import ApiKey, Role
from accounts.services import ApiKeyError, api_key_create_platform
from notifications.models import Notification, NotificationKind
from reporting.catalogue import Party, Reason, Source
from reporting.models import EventKind, Report
from tests.factories import ChargePointFactory, SiteFactory, SupportUserFactory, TeamFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/driver-reports/"


@pytest.fixture
def platform(client_for):
    key, raw = api_key_create_platform(name="Driver app", by=SupportUserFactory())
    return key, client_for(raw)


@pytest.fixture
def cps(world):
    world.dk = ChargePointFactory(site=SiteFactory(team=world.ours, country="DK"), ocpp_id="DK-1")
    world.nl = ChargePointFactory(site=SiteFactory(team=world.theirs, country="NL"), ocpp_id="NL-1")
    return world


def test_only_support_creates_platform_keys_and_they_belong_to_no_team(member_factory):
    key, raw = api_key_create_platform(name="Driver app", by=SupportUserFactory())
    assert key.team is None and key.is_platform and raw.startswith("cpr_")
    owner = member_factory(TeamFactory(), Role.OWNER)
    with pytest.raises(ApiKeyError):
        api_key_create_platform(name="Mine", by=owner)
    assert ApiKey.objects.filter(is_platform=True).count() == 1


def test_platform_key_files_a_report_by_ocpp_id_on_any_teams_charge_point(platform, cps):
    key, client = platform
    response = client.post(URL, {"charge_point": "NL-1", "reason": Reason.BROKEN, "description": "Cable cut",
                                 "driver": {"name": "Jan", "email": "jan@example.com", "language": "da"}},
                           format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    report = Report.objects.get(pk=body["id"])
    assert (report.source, report.reason, report.charge_point) == (Source.USER, Reason.BROKEN, cps.nl)
    assert report.assigned_party == Party.OWNER
    assert body["state"] == "open" and body["reason_label"] == "Charge point is broken"
    assert body["joined"] is False and "/r/s/" in body["status_url"]
    assert report.events.get(kind=EventKind.CREATED).actor_label == "Platform key 'Driver app'"
    mail = Notification.objects.get(kind=NotificationKind.DRIVER_CONFIRMATION)
    assert mail.recipient_email == "jan@example.com" and mail.language == "da"


def test_platform_key_files_by_public_code_and_the_same_driver_joins_the_open_report(platform, cps):
    _, client = platform
    payload = {"charge_point": cps.dk.public_code.lower(), "reason": Reason.TAX_REFUND,
               "driver": {"phone": "+45 11 22 33 44"}}
    first = client.post(URL, payload, format="json").json()
    second = client.post(URL, payload, format="json").json()
    assert first["id"] == second["id"] and second["joined"] is True and second["reporter_count"] == 2


def test_refusals_are_clear_400s_and_save_nothing(platform, cps):
    _, client = platform
    unknown = client.post(URL, {"charge_point": "NOPE", "reason": Reason.BROKEN}, format="json")
    assert unknown.status_code == 400 and "charge_point" in unknown.json()["fields"]
    tax = client.post(URL, {"charge_point": "NL-1", "reason": Reason.TAX_REFUND}, format="json")
    assert tax.status_code == 400 and "only for charge points in DK" in tax.json()["detail"]
    system = client.post(URL, {"charge_point": "NL-1", "reason": Reason.DISCONNECTED}, format="json")
    assert system.status_code == 400
    assert Report.objects.count() == 0


def test_platform_key_reads_back_only_the_reports_it_filed(platform, cps, client_for):
    _, client = platform
    mine = client.post(URL, {"charge_point": "DK-1", "reason": Reason.NOT_WORKING}, format="json").json()
    other_key, other_raw = api_key_create_platform(name="Other app", by=SupportUserFactory())
    theirs = client_for(other_raw).post(URL, {"charge_point": "NL-1", "reason": Reason.BROKEN},
                                        format="json").json()
    listed = client.get(URL).json()
    assert [r["id"] for r in listed["results"]] == [mine["id"]]
    assert client.get(f"{URL}{mine['id']}/").json()["state"] == "open"
    assert client.get(f"{URL}{theirs['id']}/").status_code == 404
    detail = client.get(f"{URL}{mine['id']}/").json()
    assert set(detail) == {"id", "charge_point", "reason", "reason_label", "state", "reporter_count",
                           "created_at", "resolved_at"}


def test_team_keys_and_anonymous_callers_cannot_use_the_driver_report_endpoints(world, anon):
    assert world.client.get(URL).status_code == 403
    assert world.client.post(URL, {"charge_point": world.cp.ocpp_id, "reason": "broken"},
                             format="json").status_code == 403
    assert anon.get(URL).status_code == 401


def _concrete_paths(resolver, prefix=""):
    """Every URL pattern under the resolver, with each parameter filled in."""
    for pattern in resolver.url_patterns:
        regex = pattern.pattern.regex.pattern
        part = re.sub(r"\(\?P<\w+>[^)]*\)", "1", regex).lstrip("^").rstrip("$").replace("\\Z", "")
        part = part.replace("\\", "")
        if isinstance(pattern, URLResolver):
            yield from _concrete_paths(pattern, prefix + part)
        elif isinstance(pattern, URLPattern):
            yield prefix + part, pattern


def test_every_other_api_endpoint_answers_403_to_a_platform_key(platform, cps):
    _, client = platform
    api = next(p for p in get_resolver().url_patterns
               if isinstance(p, URLResolver) and str(p.pattern) == "api/v1/")
    paths = [(f"/api/v1/{path}", p) for path, p in _concrete_paths(api)]
    checked = 0
    for path, _pattern in paths:
        if ".*" in path:  # the JSON 404 for unknown addresses
            continue
        if path.startswith((URL, "/api/v1/driver-reviews/")):  # the platform key's own
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            response = getattr(client, method)(path, {}, format="json")
            assert response.status_code == 403, (method, path, response.status_code)
            assert "platform key" in response.json()["detail"]
        checked += 1
    assert checked >= 15
    for path in ("/api/schema/",):
        assert client.get(path).status_code == 403
    assert Report.objects.count() == 0


def test_the_schema_documents_the_platform_endpoints(client, support_user):
    client.force_login(support_user)
    schema = client.get("/api/schema/?format=json").json()
    create = schema["paths"]["/api/v1/driver-reports/"]["post"]
    assert "platform key" in create["description"]
    assert "get" in schema["paths"]["/api/v1/driver-reports/{id}/"]
    assert "platform key" in schema["components"]["securitySchemes"]["apiKey"]["description"].lower()
