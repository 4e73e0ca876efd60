"""Remote troubleshooting on the charge point and report pages of both
back-offices: who sees the forms, what a click stores, refusals shown as
messages."""

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from accounts.models import Role
from gateway.models import GatewayConnection, GatewayProcess, RemoteCommand
from reporting.models import EventKind, ReportEvent
from tests.factories import ChargePointFactory, ReportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cp():
    return ChargePointFactory()


@pytest.fixture
def online(cp):
    now = timezone.now()
    process = GatewayProcess.objects.create(token="live", started_at=now, seen_at=now)
    return GatewayConnection.objects.create(charge_point=cp, process=process, connected_at=now)


def page(site, cp):
    return f"/{site}/chargepoints/chargepoint/{cp.pk}/change/"


def send(client, site, cp, **data):
    return client.post(f"/{site}/chargepoints/chargepoint/{cp.pk}/command/", {"next": page(site, cp), **data})


def shown(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_an_installer_resets_a_connected_charger_from_its_page_in_the_operator_back_office(client, cp, online,
                                                                                          member_factory):
    installer = member_factory(cp.operator, Role.INSTALLER)
    client.force_login(installer)
    html = client.get(page("operator", cp)).content.decode()
    assert 'id="remote-command-forms"' in html and "Connected to the OCPP gateway since" in html

    response = send(client, "operator", cp, action="Reset", type="Hard", confirm="on")

    assert response.status_code == 302 and response["Location"] == page("operator", cp)
    command = RemoteCommand.objects.get()
    assert (command.action, command.payload, command.status, command.requested_by) == (
        "Reset", {"type": "Hard"}, "pending", installer)
    assert shown(response)[0].startswith(f"Sent Reset (hard) to {cp.name}.")
    listed = client.get(page("operator", cp)).content.decode()
    assert "Reset (hard)" in listed and "Waiting for the gateway" in listed


def test_a_reset_without_i_am_sure_sends_nothing(client, cp, online, member_factory):
    client.force_login(member_factory(cp.operator, Role.INSTALLER))
    response = send(client, "operator", cp, action="Reset", type="Soft")
    assert "Tick \u201cI am sure\u201d: this command interrupts the charger." in shown(response)
    assert not RemoteCommand.objects.exists()


def test_trigger_message_needs_no_confirmation_and_the_answer_is_listed(client, cp, online, member_factory):
    client.force_login(member_factory(cp.owner, Role.ADMIN))
    send(client, "operator", cp, action="TriggerMessage", message="StatusNotification")
    RemoteCommand.objects.update(status="rejected", answer={"status": "Rejected"})
    html = client.get(page("operator", cp)).content.decode()
    assert "TriggerMessage StatusNotification" in html and "<td>Rejected</td>" in html


def test_a_viewer_sees_the_commands_but_no_forms_and_a_post_is_refused(client, cp, online, member_factory):
    client.force_login(member_factory(cp.operator, Role.VIEWER))
    html = client.get(page("operator", cp)).content.decode()
    assert 'id="remote-commands"' in html and 'id="remote-command-forms"' not in html
    assert "Installers and admins of the owner or operator team send remote commands." in html
    response = send(client, "operator", cp, action="TriggerMessage", message="Heartbeat")
    assert any("Only an installer or admin" in m for m in shown(response))
    assert not RemoteCommand.objects.exists()


def test_another_teams_charge_point_is_404(client, cp, online, member_factory):
    other = ChargePointFactory()
    client.force_login(member_factory(other.operator, Role.ADMIN))
    assert send(client, "operator", cp, action="TriggerMessage", message="Heartbeat").status_code == 404
    assert not RemoteCommand.objects.exists()


def test_an_offline_charger_says_so_and_a_command_is_refused_with_the_reason(client, cp, member_factory):
    client.force_login(member_factory(cp.operator, Role.INSTALLER))
    html = client.get(page("operator", cp)).content.decode()
    assert "Not connected to the OCPP gateway" in html and 'id="remote-command-forms"' not in html
    response = send(client, "operator", cp, action="UnlockConnector", connector=1, confirm="on")
    assert any("is not connected to the OCPP gateway" in m for m in shown(response))
    assert not RemoteCommand.objects.exists()


def test_support_sends_from_a_report_page_and_the_command_goes_on_its_timeline(client, cp, online, support_user):
    report = ReportFactory(charge_point=cp)
    client.force_login(support_user)
    report_page = f"/admin/reporting/report/{report.pk}/change/"
    html = client.get(report_page).content.decode()
    assert 'id="remote-command-forms"' in html
    assert f'<input type="hidden" name="report" value="{report.pk}">' in html

    response = client.post(f"/admin/chargepoints/chargepoint/{cp.pk}/command/", {
        "action": "ChangeAvailability", "connector": 2, "type": "Inoperative", "confirm": "on",
        "report": report.pk, "next": report_page})

    assert response["Location"] == report_page
    command = RemoteCommand.objects.get()
    assert (command.report, command.payload) == (report, {"connectorId": 2, "type": "Inoperative"})
    assert ReportEvent.objects.filter(report=report, kind=EventKind.REMOTE_COMMAND,
                                      note="Sent ChangeAvailability connector 2 Inoperative to the charger.").exists()
    assert "Sent ChangeAvailability connector 2 Inoperative to the charger." in client.get(report_page).content.decode()


def test_an_installer_sends_from_a_report_page_in_the_operator_back_office(client, cp, online, member_factory):
    report = ReportFactory(charge_point=cp)
    client.force_login(member_factory(cp.operator, Role.INSTALLER))
    report_page = f"/operator/reporting/report/{report.pk}/change/"
    assert 'id="remote-command-forms"' in client.get(report_page).content.decode()
    client.post(f"/operator/chargepoints/chargepoint/{cp.pk}/command/", {
        "action": "Reset", "type": "Soft", "confirm": "on", "report": report.pk, "next": report_page})
    assert RemoteCommand.objects.get().report == report


def test_a_next_address_elsewhere_is_not_followed(client, cp, online, support_user):
    client.force_login(support_user)
    response = client.post(f"/admin/chargepoints/chargepoint/{cp.pk}/command/", {
        "action": "TriggerMessage", "message": "Heartbeat", "next": "https://evil.example/"})
    assert response["Location"] == page("admin", cp)


def test_the_command_list_shows_each_team_its_own_commands_only(client, cp, online, member_factory, support_user):
    other = ChargePointFactory()
    now = timezone.now()
    GatewayConnection.objects.create(charge_point=other, process=online.process, connected_at=now)
    from gateway.commands import command_send

    command_send(charge_point=cp, by=support_user, action="TriggerMessage", message="Heartbeat")
    command_send(charge_point=other, by=support_user, action="TriggerMessage", message="BootNotification")
    client.force_login(member_factory(cp.operator, Role.VIEWER))
    html = client.get("/operator/gateway/remotecommand/?status=pending").content.decode()
    assert "TriggerMessage Heartbeat" in html and "TriggerMessage BootNotification" not in html
    client.force_login(support_user)
    html = client.get("/admin/gateway/remotecommand/?q=" + other.ocpp_id).content.decode()
    assert "TriggerMessage BootNotification" in html and "TriggerMessage Heartbeat" not in html
