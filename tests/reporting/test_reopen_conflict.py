"""Finding 6: reopening a resolved system report after the health checks
filed a newer one for the same charge point and reason is a clear 409 (API)
or a message that names and links the open report (admin), never a 500."""

import pytest

from accounts.models import Role
from reporting import services
from reporting.catalogue import Reason, Source
from reporting.errors import OpenReportExists
from reporting.models import Report, ReportState
from reporting.services import transitions
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db


def api_as(team, role):
    """An API client with a key of that role in the team (made by support)."""
    from rest_framework.test import APIClient

    from accounts.services import api_key_create
    from tests.factories import SupportUserFactory

    _, raw = api_key_create(team=team, name="CSMS", role=role, by=SupportUserFactory())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


@pytest.fixture
def pair():
    """A resolved system report and the newer open one the sweep filed."""
    cp = ChargePointFactory()
    old = services.report_create(charge_point=cp, source=Source.SYSTEM, reason=Reason.DISCONNECTED, by=None)
    services.report_resolve(report=old, by=None, note="back online")
    new = services.report_create(charge_point=cp, source=Source.SYSTEM, reason=Reason.DISCONNECTED, by=None)
    return old, new


def test_the_service_names_the_open_report(pair):
    old, new = pair
    with pytest.raises(OpenReportExists) as raised:
        services.report_reopen(report=old, by=None)
    assert raised.value.open_report_id == new.pk
    assert Report.objects.get(pk=old.pk).state == ReportState.RESOLVED
    assert old.events.filter(kind="reopened").count() == 0


def test_a_race_past_the_check_is_caught_in_a_savepoint(pair, monkeypatch):
    """The sweep files its report between the check and the save: the
    constraint refuses, and the answer is the same."""
    old, new = pair
    real = transitions._open_twin
    calls = []

    def first_call_misses(report):
        calls.append(report.pk)
        return None if len(calls) == 1 else real(report)

    monkeypatch.setattr(transitions, "_open_twin", first_call_misses)
    with pytest.raises(OpenReportExists) as raised:
        services.report_reopen(report=old, by=None)
    assert raised.value.open_report_id == new.pk and len(calls) == 2
    assert Report.objects.get(pk=old.pk).state == ReportState.RESOLVED


def test_the_api_answers_409_with_the_open_report(pair):
    old, new = pair
    response = api_as(old.charge_point.owner, Role.INSTALLER).post(f"/api/v1/reports/{old.pk}/reopen/", {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["open_report"]) == ("open_report_exists", new.pk)
    assert f"#{new.pk}" in body["detail"]


def test_the_report_page_shows_a_message_linking_the_open_report(pair, client, support_user):
    old, new = pair
    client.force_login(support_user)
    response = client.post(f"/admin/reporting/report/{old.pk}/reopen/", {"note": "again"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"report #{new.pk} is already open" in html
    assert f'href="/admin/reporting/report/{new.pk}/change/"' in html


def test_the_bulk_action_reopens_what_it_can_and_links_the_blocking_report(pair, client, support_user):
    old, new = pair
    other = services.report_create(charge_point=ChargePointFactory(), source=Source.USER,
                                   reason=Reason.BROKEN, by=None)
    services.report_resolve(report=other, by=None, note="x")
    client.force_login(support_user)
    response = client.post("/admin/reporting/report/?state=all", {
        "action": "reopen_reports", "_selected_action": [old.pk, other.pk], "post": "yes", "note": "again",
    }, follow=True)
    html = response.content.decode()
    assert "1 report reopened" in html
    assert f'href="/admin/reporting/report/{new.pk}/change/"' in html
    assert Report.objects.get(pk=other.pk).state == ReportState.OPEN
