"""No operator ever sees or changes another team's data in /operator/.

Two teams, Alpha and Beta, each with a site, a charge point, reports (one a
support conversation), report settings with a contact, e-mail notifications,
an API key and a member of every role. Every string of a team's data carries
its marker (ZZALPHA / ZZBETA). The test walks every ModelAdmin registered on
the operator site, as each member of each team, through every URL the admin
has: the list (plain, searched, filtered by the other team's ids), the add
form (its choices), the other team's change, history and delete pages (GET
and POST), the report actions, and the autocomplete endpoint for every
foreign key. The other team's marker must never appear, and at the end the
other team's rows must be exactly as they were.

A model added to the operator site without an entry in OWNED_BY fails this
test on purpose: say how its rows belong to a team.
"""

import datetime

import pytest
from django.forms.models import model_to_dict

from accounts.admin_sites import operator_site
from accounts.models import ApiKey, AuditLog, Membership, Role, Team
from accounts.services import api_key_create
from chargepoints.models import ChargePoint, Site
from reporting import services
from reporting.catalogue import Reason, Source
from reporting.maintenance import maintenance_window_create
from reporting.models import MaintenanceWindow, Report, ReportContact, ReportSettings
from reporting.settings_models import ResponseTarget
from reporting.settings_services import report_settings_update
from tests.factories import (
    ChargePointFactory,
    MembershipFactory,
    SiteFactory,
    SupportUserFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# How each model's rows belong to a team (a filter given the team).
OWNED_BY = {
    Team: lambda t: {"pk": t.pk},
    Site: lambda t: {"team": t},
    ChargePoint: lambda t: {"owner": t},
    Report: lambda t: {"charge_point__owner": t},
    Membership: lambda t: {"team": t},
    ReportSettings: lambda t: {"team": t},
    ReportContact: lambda t: {"settings__team": t},
    ApiKey: lambda t: {"team": t},
    AuditLog: lambda t: {"team": t},
    MaintenanceWindow: lambda t: {"team": t},
    ResponseTarget: lambda t: {"team": t},
}


def _owned_by():
    mapping = dict(OWNED_BY)
    try:
        from notifications.models import Notification

        mapping[Notification] = lambda t: {"team": t}
    except ImportError:  # pragma: no cover
        pass
    from gateway.models import RemoteCommand, TeamGatewaySettings

    mapping[TeamGatewaySettings] = lambda t: {"team": t}
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    mapping[WebhookEndpoint] = lambda t: {"team": t}
    mapping[WebhookDelivery] = lambda t: {"endpoint__team": t}
    mapping[RemoteCommand] = lambda t: {"charge_point__owner": t}
    from performance.models import Exclusion, SiteOutageCause

    mapping[Exclusion] = lambda t: {"charge_point__owner": t}
    mapping[SiteOutageCause] = lambda t: {"report__site__team": t}
    from performance.models import SiteVisit

    mapping[SiteVisit] = lambda t: {"report__charge_point__owner": t}
    return mapping


def build_team(marker: str):
    team = TeamFactory(name=f"{marker} Energy", country="DK")
    site = SiteFactory(team=team, name=f"{marker} site", address=f"{marker} street 1", city=f"{marker}by",
                       country="DK")
    cp = ChargePointFactory(site=site, name=f"{marker}-CP", ocpp_id=f"{marker}-OCPP", serial_number=f"{marker}-SN")
    members = {}
    for role in Role:
        user = UserFactory(email=f"{marker.lower()}-{role.value}@example.com", first_name=marker,
                           last_name=role.value)
        MembershipFactory(user=user, team=team, role=role)
        members[role] = user
    report_settings_update(team=team, email_updates=True, by=None, contacts=[
        {"name": f"{marker} contact", "email": f"{marker.lower()}-contact@example.com", "phone": "", "is_active": True}
    ])
    support = SupportUserFactory(email=f"{marker.lower()}-support@example.com")
    report = services.report_create(charge_point=cp, source=Source.USER, reason=Reason.BROKEN,
                                    description=f"{marker} report", reporter_name=f"{marker} driver")
    conversation = services.report_create(
        charge_point=cp, source=Source.SUPPORT, reason=Reason.CONVERSATION, by=support,
        description=f"{marker} conversation",
        messages=[{"sender": "driver", "author_name": f"{marker} driver", "body": f"{marker} says hello"}],
    )
    services.report_comment(report=report, by=members[Role.ADMIN], body=f"{marker} comment")
    resolved = services.report_create(charge_point=cp, source=Source.USER, reason=Reason.OTHER,
                                      description=f"{marker} resolved")
    services.report_resolve(report=resolved, by=support, note=f"{marker} fixed")
    api_key_create(team=team, name=f"{marker} key", role=Role.VIEWER, by=members[Role.OWNER])
    from django.utils import timezone

    from gateway.commands import command_send
    from gateway.models import GatewayConnection, GatewayProcess, TeamGatewaySettings

    TeamGatewaySettings.objects.create(team=team)
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    # Written directly: the service would resolve the made-up host.
    endpoint = WebhookEndpoint.objects.create(
        team=team, url=f"https://{marker.lower()}.example.com/hook", description=f"{marker} hook",
        events=["report.filed"], secret=f"whsec_{marker}")
    WebhookDelivery.objects.create(endpoint=endpoint, event_type="webhook.test", webhook_id=f"msg_{marker}",
                                   body=f'{{"data": "{marker}"}}')
    now = timezone.now()
    process = GatewayProcess.objects.create(token=f"{marker}-process", started_at=now, seen_at=now)
    GatewayConnection.objects.create(charge_point=cp, process=process, connected_at=now)
    command_send(charge_point=cp, by=members[Role.INSTALLER], action="TriggerMessage", message="Heartbeat")
    maintenance_window_create(by=None, team=team, site=site, reason=f"{marker} maintenance",
                              starts_at=timezone.now(), ends_at=timezone.now() + timezone.timedelta(hours=1))
    ResponseTarget.objects.create(team=team, source=Source.USER, time_to_assign=datetime.timedelta(hours=1))
    from performance.exclusions import exclusion_add, site_outage_cause_mark
    from tests.factories import ReportFactory

    exclusion_add(by=None, charge_point=cp, starts_at=now - timezone.timedelta(hours=2),
                  ends_at=now - timezone.timedelta(hours=1), reason="vandalism", evidence_text=f"{marker} evidence")
    site_report = ReportFactory(charge_point=None, site=site, source=Source.SYSTEM, reason=Reason.SITE_OFFLINE,
                                description=f"{marker} site offline")
    site_outage_cause_mark(by=None, report=site_report, reason="utility_outage", evidence_text=f"{marker} grid")
    from performance.response_times import site_visit_record

    site_visit_record(by=None, report=report, note=f"{marker} visit")
    return {"team": team, "site": site, "cp": cp, "members": members,
            "reports": [report, conversation, resolved]}


@pytest.fixture
def world():
    return {"ZZALPHA": build_team("ZZALPHA"), "ZZBETA": build_team("ZZBETA")}


def snapshot(team):
    rows = {}
    for model, owned in _owned_by().items():
        for obj in model._default_manager.filter(**owned(team)).order_by("pk"):
            rows[(model.__name__, obj.pk)] = model_to_dict(obj)
    return rows


def url(model, view, *args):
    from django.urls import reverse

    return reverse(f"operator:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def assert_hidden(response, marker, where):
    body = response.content.decode(errors="replace").lower()
    assert marker.lower() not in body, f"{where} shows {marker} data (status {response.status_code})"
    assert response.status_code < 500, where


@pytest.mark.parametrize("me, other", [("ZZALPHA", "ZZBETA"), ("ZZBETA", "ZZALPHA")])
@pytest.mark.parametrize("role", list(Role))
def test_operator_never_sees_or_changes_another_teams_data(client, world, me, other, role):
    owned_by = _owned_by()
    registered = list(operator_site._registry.items())
    missing = [m.__name__ for m, _ in registered if m not in owned_by]
    assert not missing, f"add these models to OWNED_BY: {missing}"

    other_team = world[other]["team"]
    before = snapshot(other_team)
    user = world[me]["members"][role]
    client.force_login(user)

    assert_hidden(client.get("/operator/"), other, "the dashboard")
    for model, model_admin in registered:
        name = model.__name__
        changelist = url(model, "changelist")
        for params in [{}, {"q": other[2:]}, {"team": other_team.pk, "site": world[other]["site"].pk}]:
            assert_hidden(client.get(changelist, params, follow=True), other, f"{name} list {params}")
        assert_hidden(client.get(url(model, "add"), follow=True), other, f"{name} add form")

        # Autocomplete of every foreign key that points at a registered model.
        for field in model._meta.get_fields():
            remote = getattr(getattr(field, "remote_field", None), "model", None)
            if getattr(field, "many_to_one", False) and remote in operator_site._registry:
                for term in ("", other[2:]):
                    response = client.get("/operator/autocomplete/", {
                        "app_label": model._meta.app_label, "model_name": model._meta.model_name,
                        "field_name": field.name, "term": term})
                    assert_hidden(response, other, f"autocomplete {name}.{field.name} {term!r}")

        for obj in model._default_manager.filter(**owned_by[model](other_team)):
            for view in ("change", "history", "delete"):
                target = url(model, view, obj.pk)
                assert_hidden(client.get(target, follow=True), other, f"{name} {view} of {other}")
            client.post(url(model, "change", obj.pk), {"name": "hijacked", "description": "hijacked",
                                                       "email_updates": "", "role": "owner", "_save": "Save"})
            client.post(url(model, "delete", obj.pk), {"post": "yes"})
            if model is Report:
                for action in ("assign", "resolve", "reopen"):
                    response = client.post(url(model, action, obj.pk), {"party": "operator", "note": "x"})
                    assert response.status_code == 404
                    assert_hidden(client.get(url(model, action, obj.pk)), other, f"report {action}")
                for action in ("comment", "message"):
                    client.post(url(model, action, obj.pk), {"body": "hijacked", "sender": "support"})
            if model is ApiKey:
                client.post(url(model, "revoke", obj.pk))
            webhook_actions = {"webhooks.WebhookEndpoint": ("test", "rotate"), "webhooks.WebhookDelivery": ("retry",)}
            for action in webhook_actions.get(model._meta.label, ()):
                assert_hidden(client.get(url(model, action, obj.pk)), other, f"webhook {action}")
                assert client.post(url(model, action, obj.pk)).status_code == 404

        # Bulk actions with the other team's ids smuggled in.
        other_ids = list(model._default_manager.filter(**owned_by[model](other_team)).values_list("pk", flat=True))
        if other_ids:
            for action in model_admin.get_actions(client.get(changelist).wsgi_request) or {}:
                response = client.post(changelist, {"action": action, "_selected_action": other_ids,
                                                     "post": "yes", "party": "operator", "note": "x"}, follow=True)
                assert_hidden(response, other, f"{name} action {action}")

    assert snapshot(other_team) == before, "the other team's data changed"
    assert not Report.objects.filter(charge_point__owner=other_team, events__note__in=["hijacked", "x"]).exists()


def test_operators_cannot_use_the_support_site(client, world):
    client.force_login(world["ZZALPHA"]["members"][Role.OWNER])
    for path in ["/admin/", "/admin/reporting/report/", f"/admin/reporting/report/{world['ZZBETA']['reports'][0].pk}/change/"]:
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_support_staff_use_the_support_site_and_see_every_team(client, world):
    support = SupportUserFactory()
    client.force_login(support)
    html = client.get("/admin/reporting/report/").content.decode()
    assert "ZZALPHA" in html and "ZZBETA" in html
    assert client.get("/operator/reporting/report/").status_code == 302


def test_each_role_sees_its_own_teams_reports(client, world):
    for role in Role:
        client.force_login(world["ZZALPHA"]["members"][role])
        html = client.get("/operator/reporting/report/").content.decode()
        assert "ZZALPHA-CP" in html, role
