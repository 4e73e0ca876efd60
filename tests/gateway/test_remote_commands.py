"""Remote commands over a real websocket, the ocpp package's own charge point
answering: each command and its answer, refused when offline, timed out,
on a report's timeline; self-healing; the sweep of dead gateway processes."""

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, ChargePointErrorCode, ChargePointStatus

from accounts.models import Role
from chargepoints.models import ChargePoint, StateChange
from core.errors import Conflict, NotAllowed
from gateway.commands import command_send, commands_time_out, dead_processes_sweep, gateway_sweep
from gateway.models import GatewayConnection, GatewayProcess, RemoteCommand
from reporting.catalogue import Reason
from reporting.health.sweep import health_sweep
from reporting.models import EventKind, Report, ReportEvent, ReportSettings
from reporting.services import actor_label
from tests.factories import ReportFactory

from .conftest import Charger, connected, db, eventually

pytestmark = pytest.mark.django_db(transaction=True)

POLL = 0.05


class Answering(Charger):
    """Answers every remote command with the status in ``answers`` (by
    action), and remembers what it was asked."""

    answers: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked = []

    def _answer(self, action, default):
        self.asked.append(action)
        return self.answers.get(action, default)

    @on(Action.reset)
    async def on_reset(self, type, **kwargs):
        return call_result.Reset(status=self._answer(f"Reset {type}", "Accepted"))

    @on(Action.trigger_message)
    async def on_trigger(self, requested_message, **kwargs):
        return call_result.TriggerMessage(status=self._answer(f"TriggerMessage {requested_message}", "Accepted"))

    @on(Action.change_availability)
    async def on_availability(self, connector_id, type, **kwargs):
        return call_result.ChangeAvailability(status=self._answer(f"ChangeAvailability {type}", "Accepted"))

    @on(Action.unlock_connector)
    async def on_unlock(self, connector_id, **kwargs):
        return call_result.UnlockConnector(status=self._answer("UnlockConnector", "Unlocked"))


class Silent(Charger):
    """Takes a Reset and never answers it."""

    @on(Action.reset)
    async def on_reset(self, type, **kwargs):
        await asyncio.sleep(3600)


async def is_connected(gateway, cp):
    assert await eventually(gateway, lambda: GatewayConnection.objects.filter(charge_point=cp).exists()), \
        "the gateway did not record the connection"


async def finished(gateway, command_id, timeout=10.0):
    def check():
        command = RemoteCommand.objects.get(pk=command_id)
        return command if command.status not in ("pending", "sent") else None
    return await eventually(gateway, check, timeout=timeout)


@pytest.fixture
def installer(charger_cp, member_factory):
    return member_factory(charger_cp[0].operator, Role.INSTALLER)


def test_each_command_reaches_the_charger_and_its_answer_is_recorded(start_gateway, charger_cp, installer):
    cp, password = charger_cp
    gateway = start_gateway(command_poll_interval=POLL)
    sends = [
        ({"action": "Reset", "type": "Soft"}, "Reset Soft", "Accepted", "accepted"),
        ({"action": "Reset", "type": "Hard"}, "Reset Hard", "Rejected", "rejected"),
        ({"action": "TriggerMessage", "message": "StatusNotification"}, "TriggerMessage StatusNotification",
         "Accepted", "accepted"),
        ({"action": "TriggerMessage", "message": "Heartbeat"}, "TriggerMessage Heartbeat", "Rejected", "rejected"),
        ({"action": "TriggerMessage", "message": "BootNotification"}, "TriggerMessage BootNotification",
         "Accepted", "accepted"),
        ({"action": "ChangeAvailability", "connector": 1, "type": "Inoperative"}, "ChangeAvailability Inoperative",
         "Scheduled", "accepted"),
        ({"action": "ChangeAvailability", "connector": 0, "type": "Operative"}, "ChangeAvailability Operative",
         "Rejected", "rejected"),
        ({"action": "UnlockConnector", "connector": 2}, "UnlockConnector", "Unlocked", "accepted"),
    ]

    class Scripted(Answering):
        answers = {asked: answer for _kwargs, asked, answer, _status in sends}

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password, charger_class=Scripted) as charger:
            await is_connected(gateway, cp)
            results = []
            for kwargs, _asked, _answer, _status in sends:
                command = await db(gateway, lambda kwargs=kwargs: command_send(charge_point=cp, by=installer,
                                                                               **kwargs))
                results.append(await finished(gateway, command.pk))
            return charger.asked, results

    asked, results = asyncio.run(scenario())
    assert asked == [a for _k, a, _ans, _s in sends]
    assert [(c.status, c.answer) for c in results] == [(s, {"status": a}) for _k, _as, a, s in sends]
    first = results[0]
    assert (first.requested_by, first.requested_by_label, first.payload) == (installer, actor_label(installer),
                                                                             {"type": "Soft"})
    assert first.sent_at and first.answered_at >= first.sent_at


def test_a_charger_that_answers_with_an_error_fails_the_command(start_gateway, charger_cp, installer):
    cp, password = charger_cp
    gateway = start_gateway(command_poll_interval=POLL)

    async def scenario():
        # The plain client has no handler for UnlockConnector: a CALLERROR.
        async with connected(gateway, cp.ocpp_id, password):
            await is_connected(gateway, cp)
            command = await db(gateway, lambda: command_send(charge_point=cp, by=installer,
                                                             action="UnlockConnector", connector=1))
            return await finished(gateway, command.pk)

    command = asyncio.run(scenario())
    assert command.status == "failed"
    assert command.answer["error_code"] == "NotImplemented"
    assert command.answer_text.startswith("error NotImplemented")


def test_a_charger_that_is_not_connected_is_refused_at_once_and_nothing_is_stored(start_gateway, charger_cp,
                                                                                 installer):
    cp, password = charger_cp
    gateway = start_gateway(command_poll_interval=POLL)

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password):
            await is_connected(gateway, cp)
        await eventually(gateway, lambda: not GatewayConnection.objects.filter(charge_point=cp).exists())

        def send():
            try:
                command_send(charge_point=cp, by=installer, action="Reset", type="Soft")
            except Conflict as refused:
                return str(refused)
        return await db(gateway, send)

    refusal = asyncio.run(scenario())
    assert refusal == (f"{cp.name} ({cp.ocpp_id}) is not connected to the OCPP gateway, so the command cannot "
                       "reach it. Try again once it is back online.")
    assert not RemoteCommand.objects.exists()


def test_a_viewer_may_not_send_a_command(charger_cp, member_factory):
    cp, _password = charger_cp
    viewer = member_factory(cp.operator, Role.VIEWER)
    with pytest.raises(NotAllowed):
        command_send(charge_point=cp, by=viewer, action="Reset", type="Soft")


def test_a_charger_that_never_answers_times_out_and_the_report_timeline_says_so(start_gateway, charger_cp,
                                                                                 installer, settings):
    settings.OCPP = {**settings.OCPP, "command_timeout": 0.5}
    cp, password = charger_cp
    report = ReportFactory(charge_point=cp)
    gateway = start_gateway(command_poll_interval=POLL)

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password, charger_class=Silent):
            await is_connected(gateway, cp)
            command = await db(gateway, lambda: command_send(charge_point=cp, by=installer, action="Reset",
                                                             type="Hard", report=report))
            return await finished(gateway, command.pk)

    command = asyncio.run(scenario())
    assert command.status == "timed_out"
    assert command.answer is None
    notes = list(ReportEvent.objects.filter(report=report, kind=EventKind.REMOTE_COMMAND)
                 .order_by("pk").values_list("actor_label", "note"))
    assert notes == [(actor_label(installer), "Sent Reset (hard) to the charger."),
                     ("System", "Reset (hard): no answer in time.")]


def test_a_command_from_a_report_page_puts_the_command_and_its_answer_on_the_timeline(start_gateway, charger_cp,
                                                                                      installer):
    cp, password = charger_cp
    report = ReportFactory(charge_point=cp)
    gateway = start_gateway(command_poll_interval=POLL)

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password, charger_class=Answering):
            await is_connected(gateway, cp)
            command = await db(gateway, lambda: command_send(charge_point=cp, by=installer, report=report,
                                                             action="TriggerMessage", message="StatusNotification"))
            return await finished(gateway, command.pk)

    command = asyncio.run(scenario())
    assert command.status == "accepted"
    events = list(ReportEvent.objects.filter(report=report, kind=EventKind.REMOTE_COMMAND).order_by("pk"))
    assert [(e.actor, e.note) for e in events] == [
        (installer, "Sent TriggerMessage StatusNotification to the charger."),
        (None, "TriggerMessage StatusNotification: Accepted."),
    ]


def test_a_report_of_another_charge_point_is_refused(charger_cp, installer):
    from core.errors import Invalid

    cp, _password = charger_cp
    with pytest.raises(Invalid):
        command_send(charge_point=cp, by=installer, action="Reset", type="Soft", report=ReportFactory())


def test_commands_of_a_gateway_process_that_is_gone_are_timed_out_by_the_sweep(charger_cp, installer):
    cp, _password = charger_cp
    report = ReportFactory(charge_point=cp)
    now = timezone.now()
    process = GatewayProcess.objects.create(token="t", started_at=now, seen_at=now)
    GatewayConnection.objects.create(charge_point=cp, process=process, connected_at=now)
    command = command_send(charge_point=cp, by=installer, action="Reset", type="Soft", report=report)

    assert commands_time_out(now=now) == 0  # not yet past its deadline
    assert commands_time_out(now=command.deadline_at + timedelta(minutes=1)) == 1
    command.refresh_from_db()
    assert command.status == "timed_out"
    assert ReportEvent.objects.filter(report=report, note="Reset (soft): no answer in time.").count() == 1
    assert commands_time_out(now=command.deadline_at + timedelta(minutes=2)) == 0


def test_self_healing_sends_one_soft_reset_and_the_error_check_files_later_saying_so(start_gateway, charger_cp):
    cp, password = charger_cp
    ReportSettings.objects.update_or_create(team=cp.operator, defaults={"self_heal": True, "self_heal_minutes": 5})
    gateway = start_gateway(command_poll_interval=POLL)
    faulted_at = timezone.now()

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password, charger_class=Answering) as charger:
            await is_connected(gateway, cp)
            await charger.call(call.StatusNotification(
                connector_id=0, error_code=ChargePointErrorCode.other_error, status=ChargePointStatus.faulted,
                timestamp=faulted_at.isoformat()))
            first = await db(gateway, gateway_sweep)
            [reset] = await db(gateway, lambda: list(RemoteCommand.objects.filter(charge_point=cp)))
            await finished(gateway, reset.pk)
            second = await db(gateway, gateway_sweep)
            # 11 minutes in error: past the usual 10, not past 10 + 5.
            early = await db(gateway, lambda: health_sweep(now=faulted_at + timedelta(minutes=11)).as_dict())
            late = await db(gateway, lambda: health_sweep(now=faulted_at + timedelta(minutes=16)).as_dict())
            return charger.asked, first, second, early, late

    asked, first, second, early, late = asyncio.run(scenario())
    assert asked == ["Reset Soft"]
    assert (first.self_healed, second.self_healed) == (1, 0)
    assert early["filed"] == 0
    assert late["filed"] == 1
    report = Report.objects.get(charge_point=cp, reason=Reason.IN_ERROR)
    reset = RemoteCommand.objects.get(charge_point=cp)
    assert (reset.origin, reset.status, reset.requested_by_label, reset.report) == (
        "self_heal", "accepted", "Self-healing", report)
    [note] = ReportEvent.objects.filter(report=report, kind=EventKind.REMOTE_COMMAND).values_list("note", flat=True)
    assert note.startswith("Before filing, self-healing sent Reset (soft) at ")
    assert note.endswith(": Accepted.")
    assert "more than 15 minutes" in report.description


def test_without_the_opt_in_no_reset_is_sent_and_the_check_files_after_the_usual_minutes(start_gateway,
                                                                                        charger_cp):
    cp, password = charger_cp
    gateway = start_gateway(command_poll_interval=POLL)
    faulted_at = timezone.now()

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password, charger_class=Answering) as charger:
            await is_connected(gateway, cp)
            await charger.call(call.StatusNotification(
                connector_id=0, error_code=ChargePointErrorCode.other_error, status=ChargePointStatus.faulted,
                timestamp=faulted_at.isoformat()))
            swept = await db(gateway, gateway_sweep)
            filed = await db(gateway, lambda: health_sweep(now=faulted_at + timedelta(minutes=11)).as_dict())
            return charger.asked, swept, filed

    asked, swept, filed = asyncio.run(scenario())
    assert (asked, swept.self_healed, filed["filed"]) == ([], 0, 1)
    assert not RemoteCommand.objects.exists()


def test_the_chargers_of_a_gateway_process_that_died_are_marked_disconnected(start_gateway, charger_cp, settings):
    cp, password = charger_cp
    gateway = start_gateway(command_poll_interval=POLL)

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password) as charger:
            await charger.call(call.StatusNotification(
                connector_id=1, error_code=ChargePointErrorCode.no_error, status=ChargePointStatus.available,
                timestamp=timezone.now().isoformat()))
            await is_connected(gateway, cp)
            first_process = gateway.commands.process_id
            alive = await db(gateway, lambda: dead_processes_sweep(now=timezone.now()))
            # The same process seen from a sweep after its lease ran out (as
            # if it had crashed, or stalled, and stopped renewing it).
            later = timezone.now() + timedelta(seconds=settings.OCPP["process_lease"] + 1)
            dead = await db(gateway, lambda: dead_processes_sweep(now=later))
            state = await db(gateway, lambda: ChargePoint.objects.get(pk=cp.pk).state)
            # It was only stalled: its next poll registers it again and
            # announces the chargers it still holds.
            back = await eventually(gateway, lambda: GatewayConnection.objects.filter(
                charge_point=cp).exclude(process_id=first_process).exists())
            return alive, dead, state, back

    alive, dead, state, back = asyncio.run(scenario())
    assert alive == (0, 0)
    assert dead == (1, 1)
    assert state == "disconnected"
    assert back
    assert StateChange.objects.filter(charge_point=cp, state="disconnected").count() >= 1


def test_the_dead_process_sweep_is_done_once(charger_cp, settings):
    cp, _password = charger_cp
    long_ago = timezone.now() - timedelta(seconds=settings.OCPP["process_lease"] + 10)
    process = GatewayProcess.objects.create(token="crashed", started_at=long_ago, seen_at=long_ago)
    GatewayConnection.objects.create(charge_point=cp, process=process, connected_at=long_ago)
    ChargePoint.objects.filter(pk=cp.pk).update(state="available")

    assert gateway_sweep().disconnected == 1
    assert gateway_sweep().disconnected == 0
    cp.refresh_from_db()
    assert cp.state == "disconnected"
    assert (GatewayProcess.objects.count(), GatewayConnection.objects.count()) == (0, 0)
    assert StateChange.objects.filter(charge_point=cp, state="disconnected").count() == 1


@pytest.fixture
def redis_url(settings):
    """The Redis of the PostgreSQL + Redis pass (CELERY_BROKER_URL); skipped
    without one."""
    import os

    import redis

    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://... to run it")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"needs Redis at {url}: {error}")
    settings.OCPP = {**settings.OCPP, "command_redis_url": url}
    return url


def test_with_redis_a_command_wakes_the_gateway_process_at_once(start_gateway, charger_cp, installer, redis_url):
    cp, password = charger_cp
    # A poll interval of an hour: only the Redis nudge can bring the command
    # to the charger within the test.
    gateway = start_gateway(command_poll_interval=3600)

    async def scenario():
        async with connected(gateway, cp.ocpp_id, password, charger_class=Answering) as charger:
            await db(gateway, lambda: GatewayConnection.objects.create(
                charge_point=cp, process_id=gateway.commands.process_id, connected_at=timezone.now()))
            await asyncio.sleep(0.3)  # the subscription is up
            command = await db(gateway, lambda: command_send(charge_point=cp, by=installer, action="Reset",
                                                             type="Soft"))
            return charger.asked, await finished(gateway, command.pk, timeout=5)

    asked, command = asyncio.run(scenario())
    assert asked == ["Reset Soft"]
    assert command.status == "accepted"
