"""/api/v1/charge-points/{id}/commands/: send a remote command, list them,
read one's answer. The charger's side is in tests/gateway/test_remote_commands.py."""

import pytest
from django.utils import timezone

from accounts.models import Role
from gateway.models import GatewayConnection, GatewayProcess, RemoteCommand
from reporting.models import EventKind, ReportEvent
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def url(cp, pk=None):
    return f"/api/v1/charge-points/{cp.pk}/commands/" + (f"{pk}/" if pk else "")


@pytest.fixture
def online(world):
    """Our charge point, held by a live gateway process."""
    now = timezone.now()
    process = GatewayProcess.objects.create(token="live", started_at=now, seen_at=now)
    GatewayConnection.objects.create(charge_point=world.cp, process=process, connected_at=now)
    return process


def test_an_installer_key_sends_a_reset_answered_202_and_pending(world, online, make_key, client_for):
    _key, raw = make_key(world.ours, Role.INSTALLER, name="Field app")
    response = client_for(raw).post(url(world.cp), {"action": "Reset", "type": "Soft"}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    command = RemoteCommand.objects.get()
    assert body["id"] == command.pk
    assert (body["action"], body["payload"], body["status"], body["summary"]) == (
        "Reset", {"type": "Soft"}, "pending", "Reset (soft)")
    assert body["requested_by_label"] == command.requested_by_label != ""
    assert command.process == online


def test_each_command_with_its_arguments(world, online):
    for data, payload in [
        ({"action": "TriggerMessage", "message": "Heartbeat"}, {"requestedMessage": "Heartbeat"}),
        ({"action": "ChangeAvailability", "connector": 0, "type": "Inoperative"},
         {"connectorId": 0, "type": "Inoperative"}),
        ({"action": "UnlockConnector", "connector": 2}, {"connectorId": 2}),
    ]:
        response = world.client.post(url(world.cp), data, format="json")
        assert response.status_code == 202, response.json()
        assert response.json()["payload"] == payload


@pytest.mark.parametrize("data, field", [
    ({"action": "Reboot"}, "action"),
    ({"action": "Reset"}, "type"),
    ({"action": "Reset", "type": "Inoperative"}, "type"),
    ({"action": "TriggerMessage", "message": "MeterValues"}, "message"),
    ({"action": "ChangeAvailability", "type": "Operative"}, "connector"),
    ({"action": "UnlockConnector", "connector": 0}, "connector"),
    ({"action": "UnlockConnector", "connector": True}, "connector"),
    ({"action": "UnlockConnector", "connector": 100}, "connector"),
])
def test_bad_arguments_are_400_and_nothing_is_stored(world, online, data, field):
    response = world.client.post(url(world.cp), data, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not RemoteCommand.objects.exists()


def test_an_offline_charger_is_409_with_a_clear_message(world):
    response = world.client.post(url(world.cp), {"action": "Reset", "type": "Soft"}, format="json")
    assert response.status_code == 409
    assert "is not connected to the OCPP gateway" in response.json()["detail"]
    assert not RemoteCommand.objects.exists()


def test_a_charger_on_a_dead_gateway_process_counts_as_offline(world, online, settings):
    GatewayProcess.objects.update(seen_at=timezone.now() - timezone.timedelta(
        seconds=settings.OCPP["process_lease"] + 5))
    response = world.client.post(url(world.cp), {"action": "Reset", "type": "Soft"}, format="json")
    assert response.status_code == 409


def test_a_viewer_may_not_send_commands_but_may_list_them(world, online):
    response = world.viewer.post(url(world.cp), {"action": "Reset", "type": "Soft"}, format="json")
    assert response.status_code == 403
    assert not RemoteCommand.objects.exists()
    assert world.viewer.get(url(world.cp)).status_code == 200


def test_another_teams_charge_point_is_404(world, online):
    assert world.their_client.post(url(world.cp), {"action": "Reset", "type": "Soft"},
                                   format="json").status_code == 404
    world.client.post(url(world.cp), {"action": "Reset", "type": "Soft"}, format="json")
    command = RemoteCommand.objects.get()
    assert world.their_client.get(url(world.cp)).status_code == 404
    assert world.their_client.get(url(world.cp, command.pk)).status_code == 404
    assert world.client.get(url(world.their_cp, command.pk)).status_code == 404


def test_list_and_read_one_with_its_answer(world, online):
    world.client.post(url(world.cp), {"action": "Reset", "type": "Hard"}, format="json")
    command = RemoteCommand.objects.get()
    RemoteCommand.objects.filter(pk=command.pk).update(status="rejected", answer={"status": "Rejected"})
    body = world.client.get(url(world.cp, command.pk)).json()
    assert (body["status"], body["answer"], body["answer_text"]) == ("rejected", {"status": "Rejected"}, "Rejected")
    listed = world.client.get(url(world.cp) + "?status=rejected").json()["results"]
    assert [c["id"] for c in listed] == [command.pk]
    assert world.client.get(url(world.cp) + "?status=accepted").json()["results"] == []


def test_sent_from_a_report_goes_on_its_timeline(world, online):
    report = ReportFactory(charge_point=world.cp)
    response = world.client.post(url(world.cp), {"action": "Reset", "type": "Soft", "report": report.pk},
                                 format="json")
    assert response.status_code == 202
    assert response.json()["report"] == report.pk
    assert ReportEvent.objects.filter(report=report, kind=EventKind.REMOTE_COMMAND,
                                      note="Sent Reset (soft) to the charger.").count() == 1


def test_a_report_of_another_team_or_charge_point_is_400(world, online):
    for report in (ReportFactory(charge_point=world.their_cp), ReportFactory(charge_point__site=world.cp.site)):
        response = world.client.post(url(world.cp), {"action": "Reset", "type": "Soft", "report": report.pk},
                                     format="json")
        assert response.status_code == 400
        assert "report" in response.json()["fields"]
    assert not RemoteCommand.objects.exists()
