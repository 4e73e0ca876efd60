"""Remote commands (Reset, TriggerMessage, ChangeAvailability,
UnlockConnector) and the bookkeeping that gets them to the right gateway
process: which process holds which charger's socket, and whether that
process is still alive.

How a command travels (docs/ocpp.md, "Remote commands"):

1. ``command_send`` (the admin, the API, self-healing) checks the caller
   and that the charger is connected *now* (a ``GatewayConnection`` row
   whose process renewed its lease), and writes a ``pending`` row addressed
   to that process. An offline charger is refused at once.
2. Every ``command_poll_interval`` seconds each gateway process calls
   ``gateway_poll``: one transaction that renews its lease, writes the
   connections opened and closed since, and claims its pending commands
   (``pending`` -> ``sent``, a conditional update).
3. The process sends the CALL on the charger's socket and records the
   CALLRESULT or CALLERROR with ``command_finish``, or ``timed_out`` at the
   command's deadline.
4. ``gateway_sweep`` (a periodic task) times out open commands past their
   deadline that no live process answered, and marks the connections of
   processes whose lease ran out as disconnected.

The database is the channel: it is there under ``make run`` (SQLite) as in
production, and every command is a row anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Capability, can_on_charge_point
from chargepoints.models import ChargePoint, ChargePointState
from chargepoints.services import telemetry_record_batch
from core.errors import Conflict, Invalid, NotAllowed
from reporting.catalogue import Reason
from reporting.models import EventKind, Report
from reporting.services import actor_label, report_system_event, report_timeline_note

from .models import (
    OPEN_STATUSES,
    CommandAction,
    CommandStatus,
    GatewayConnection,
    GatewayProcess,
    RemoteCommand,
    answer_summary,
    command_summary,
)
from .services import transactions_close_abandoned

logger = logging.getLogger("gateway")

RESET_TYPES = ("Soft", "Hard")
TRIGGER_MESSAGES = ("StatusNotification", "Heartbeat", "BootNotification")
AVAILABILITY_TYPES = ("Operative", "Inoperative")
SELF_HEAL_LABEL = "Self-healing"


def _ocpp() -> dict:
    return settings.OCPP


def command_payload(*, action: str, type: str = "", message: str = "", connector: int | None = None) -> dict:
    """The OCPP 1.6 payload of a command, checked: Invalid (400) otherwise."""
    if action == CommandAction.RESET:
        if type not in RESET_TYPES:
            raise Invalid("A reset is Soft or Hard.", field="type")
        return {"type": type}
    if action == CommandAction.TRIGGER_MESSAGE:
        if message not in TRIGGER_MESSAGES:
            raise Invalid(f"The message to trigger is one of {', '.join(TRIGGER_MESSAGES)}.", field="message")
        return {"requestedMessage": message}
    if action in (CommandAction.CHANGE_AVAILABILITY, CommandAction.UNLOCK_CONNECTOR):
        if isinstance(connector, bool) or not isinstance(connector, int) or connector < 0 or connector > 99:
            raise Invalid("The connector is a number from 0 (the whole charger) to 99.", field="connector")
        if action == CommandAction.UNLOCK_CONNECTOR:
            if connector == 0:
                raise Invalid("UnlockConnector needs a connector from 1.", field="connector")
            return {"connectorId": connector}
        if type not in AVAILABILITY_TYPES:
            raise Invalid("The availability is Operative or Inoperative.", field="type")
        return {"connectorId": connector, "type": type}
    raise Invalid(f"Unknown command {action!r}: one of {', '.join(CommandAction.values)}.", field="action")


def _live_since(now: datetime) -> datetime:
    return now - timedelta(seconds=_ocpp()["process_lease"])


def connection_live(*, charge_point_id: int, now: datetime | None = None) -> GatewayConnection | None:
    """The connection of a charger to a live gateway process, or None."""
    now = now or timezone.now()
    return (GatewayConnection.objects.select_related("process")
            .filter(charge_point_id=charge_point_id, process__seen_at__gte=_live_since(now)).first())


@transaction.atomic
def command_send(*, charge_point: ChargePoint, action: str, by, type: str = "", message: str = "",
                 connector: int | None = None, report: Report | None = None,
                 origin: str = RemoteCommand.Origin.PERSON) -> RemoteCommand:
    """Queue a command for the gateway process that holds the charger's
    socket. Installers and up of the owner or operator team (and support);
    ``by=None`` is the system (self-healing). Refused at once (409) when the
    charger is not connected. Started from a report: the report is on the
    same charge point, and the command goes on its timeline."""
    if by is not None and not can_on_charge_point(by, Capability.REMOTE_COMMAND, charge_point=charge_point):
        raise NotAllowed("Only an installer or admin of the owner or operator team may send commands "
                         "to this charge point.")
    payload = command_payload(action=action, type=type, message=message, connector=connector)
    if report is not None and report.charge_point_id != charge_point.pk:
        raise Invalid("That report is about another charge point.", field="report")
    now = timezone.now()
    connection = connection_live(charge_point_id=charge_point.pk, now=now)
    if connection is None:
        raise Conflict(f"{charge_point.name} ({charge_point.ocpp_id}) is not connected to the OCPP gateway, "
                       "so the command cannot reach it. Try again once it is back online.")
    command = RemoteCommand.objects.create(
        charge_point=charge_point, action=action, payload=payload, origin=origin,
        requested_by=by if isinstance(by, User) else None,
        requested_by_label=SELF_HEAL_LABEL if by is None else actor_label(by),
        report=report, process=connection.process, requested_at=now,
        deadline_at=now + timedelta(seconds=_ocpp()["command_timeout"]),
    )
    if report is not None:
        report_timeline_note(report=report, by=by, kind=EventKind.REMOTE_COMMAND,
                             note=f"Sent {command.summary} to the charger.")
    token = connection.process.token
    transaction.on_commit(lambda: command_nudge(token=token))
    logger.info("%s: %s queued by %s", charge_point.ocpp_id, command.summary, command.requested_by_label)
    return command


def nudge_channel(token: str) -> str:
    return f"ocpp-commands:{token}"


_redis = None


def command_nudge(*, token: str) -> None:
    """With Redis configured: wake the gateway process now (pub/sub) rather
    than at its next poll. Best effort: the poll picks the command up anyway."""
    global _redis
    url = _ocpp()["command_redis_url"]
    if not url:
        return
    import redis

    try:
        if _redis is None or _redis[0] != url:
            _redis = (url, redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2))
        _redis[1].publish(nudge_channel(token), "1")
    except redis.RedisError as error:
        logger.warning("Remote commands: could not wake the gateway through Redis (%s); it polls", error)


def command_finish(*, command_id: int, status: str, answer: dict | None) -> bool:
    """Record a sent command's answer (or its timeout). Only the first
    outcome counts: a conditional update from ``sent``."""
    now = timezone.now()
    with transaction.atomic():
        done = RemoteCommand.objects.filter(pk=command_id, status__in=OPEN_STATUSES).update(
            status=status, answer=answer, answered_at=now)
        if done:
            command = RemoteCommand.objects.select_related("report").get(pk=command_id)
            _answer_on_timeline([command])
    return bool(done)


def _answer_on_timeline(commands: list[RemoteCommand]) -> None:
    for command in commands:
        if command.report is not None:
            report_system_event(report=command.report, kind=EventKind.REMOTE_COMMAND,
                                note=f"{command.summary}: {answer_summary(command.status, command.answer)}.")


# --- The gateway process's side ------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A command a gateway process is to send now."""

    id: int
    charge_point_id: int
    action: str
    payload: dict
    deadline_at: datetime


def gateway_process_start(*, token: str, hostname: str, pid: int) -> int:
    now = timezone.now()
    return GatewayProcess.objects.create(token=token, hostname=hostname[:200], pid=pid, started_at=now,
                                         seen_at=now).pk


def gateway_poll(*, process_id: int, opened: dict[int, datetime], closed: set[int]) -> list[Claimed] | None:
    """One round of a gateway process: renew its lease, record the
    connections opened (charge point id -> when) and closed since the last
    round, and claim its pending commands. One transaction. None when the
    process's row is gone (the sweep took it for dead after a long stall):
    it registers again and announces all its connections."""
    now = timezone.now()
    with transaction.atomic():
        if not GatewayProcess.objects.filter(pk=process_id).update(seen_at=now):
            return None
        if closed:
            # Only its own rows: the charger may already be on another process.
            GatewayConnection.objects.filter(process_id=process_id, charge_point_id__in=closed).delete()
        if opened:
            # One statement however many chargers (re)connected; a row
            # another process held is taken over.
            live = ChargePoint.objects.filter(pk__in=opened).values_list("pk", flat=True)
            GatewayConnection.objects.bulk_create(
                [GatewayConnection(charge_point_id=cp_id, process_id=process_id, connected_at=opened[cp_id])
                 for cp_id in live],
                update_conflicts=True, unique_fields=["charge_point"], update_fields=["process", "connected_at"])
        pending = list(RemoteCommand.objects.filter(process_id=process_id, status=CommandStatus.PENDING)
                       .values("pk", "charge_point_id", "action", "payload", "deadline_at"))
        claimed = []
        for row in pending:
            # The sweep may have timed it out meanwhile: whoever moves it first.
            if RemoteCommand.objects.filter(pk=row["pk"], status=CommandStatus.PENDING).update(
                    status=CommandStatus.SENT, sent_at=now):
                claimed.append(Claimed(row["pk"], row["charge_point_id"], row["action"], row["payload"],
                                       row["deadline_at"]))
    return claimed


def gateway_process_stop(*, process_id: int) -> None:
    """A clean stop: the process's connections are gone (their disconnects
    were recorded as the sockets closed) and so is its lease."""
    with transaction.atomic():
        GatewayConnection.objects.filter(process_id=process_id).delete()
        RemoteCommand.objects.filter(process_id=process_id, status__in=OPEN_STATUSES).update(
            status=CommandStatus.FAILED, answered_at=timezone.now(),
            answer={"error_code": "GatewayStopped", "description": "The gateway process stopped before the answer came."})
        GatewayProcess.objects.filter(pk=process_id).delete()


# --- The periodic sweep --------------------------------------------------------------


@dataclass
class SweepResult:
    timed_out: int = 0
    dead_processes: int = 0
    disconnected: int = 0
    self_healed: int = 0
    abandoned: int = 0


def gateway_sweep(*, now: datetime | None = None) -> SweepResult:
    """Time out open commands past their deadline, mark the connections of
    dead gateway processes disconnected, send self-healing resets, and
    record the abandoned transactions as failed charges. Safe to run twice
    at once."""
    now = now or timezone.now()
    result = SweepResult()
    result.timed_out = commands_time_out(now=now)
    result.dead_processes, result.disconnected = dead_processes_sweep(now=now)
    result.self_healed = self_heal_sweep(now=now)
    result.abandoned = transactions_close_abandoned(now=now)
    return result


def commands_time_out(*, now: datetime) -> int:
    """Open commands past their deadline (plus a few seconds for the live
    process's own timeout to land first): timed out."""
    grace = timedelta(seconds=max(2.0, _ocpp()["command_poll_interval"] * 2))
    count = 0
    with transaction.atomic():
        ids = list(RemoteCommand.objects.filter(status__in=OPEN_STATUSES, deadline_at__lt=now - grace)
                   .values_list("pk", flat=True)[:1000])
        for command_id in ids:
            if RemoteCommand.objects.filter(pk=command_id, status__in=OPEN_STATUSES).update(
                    status=CommandStatus.TIMED_OUT, answered_at=now):
                count += 1
                _answer_on_timeline([RemoteCommand.objects.select_related("report").get(pk=command_id)])
    return count


def dead_processes_sweep(*, now: datetime) -> tuple[int, int]:
    """Gateway processes whose lease ran out (crashed, killed): their
    chargers are disconnected (a state change, as when a socket closes) and
    their rows go. Each dead process is taken under a lock that a second
    sweep skips."""
    processes = disconnected = 0
    dead = list(GatewayProcess.objects.filter(seen_at__lt=_live_since(now)).values_list("pk", flat=True))
    for process_id in dead:
        with transaction.atomic():
            process = (GatewayProcess.objects.select_for_update(skip_locked=True)
                       .filter(pk=process_id, seen_at__lt=_live_since(now)).first())
            if process is None:
                continue
            rows = list(GatewayConnection.objects.filter(process=process)
                        .values_list("charge_point_id", "charge_point__ocpp_id"))
            events = [{"event_id": f"gw-lost-{process.token}-{cp_id}", "type": "state_change", "ocpp_id": ocpp_id,
                       "occurred_at": now.isoformat(), "state": ChargePointState.DISCONNECTED}
                      for cp_id, ocpp_id in rows]
            if events:
                telemetry_record_batch(events=events)
            logger.warning("Gateway process %s:%s is gone (no lease since %s); %s chargers disconnected",
                           process.hostname, process.pid, process.seen_at, len(rows))
            process.delete()  # its connections with it; its commands keep their rows
            processes += 1
            disconnected += len(rows)
    return processes, disconnected


# --- Self-healing --------------------------------------------------------------------


def self_heal_sweep(*, now: datetime) -> int:
    """For the teams that opted in (health-check settings, "in error: try a
    soft reset first"): one soft reset to each connected charger that went
    into error, once per error spell. The in-error check waits the extra
    minutes they set before it files."""
    from reporting.health.thresholds import health_config_load

    config = health_config_load()
    sent = 0
    for group in config.groups(Reason.IN_ERROR):
        if not (group.thresholds.enabled and group.thresholds.self_heal):
            continue
        tried = RemoteCommand.objects.filter(charge_point=OuterRef("pk"), origin=RemoteCommand.Origin.SELF_HEAL,
                                             requested_at__gte=OuterRef("state_since"))
        candidates = (ChargePoint.objects.filter(group.charge_points(), state=ChargePointState.ERROR,
                                                 gateway_connection__process__seen_at__gte=_live_since(now))
                      .exclude(Exists(tried)).values_list("pk", flat=True))
        for cp_id in list(candidates):
            with transaction.atomic():
                # Under the charge point's lock, checked again: two sweeps
                # at once send one reset.
                cp = (ChargePoint.objects.select_for_update(skip_locked=True)
                      .filter(pk=cp_id, state=ChargePointState.ERROR).exclude(Exists(tried)).first())
                if cp is None:
                    continue
                try:
                    command_send(charge_point=cp, action=CommandAction.RESET, type="Soft", by=None,
                                 origin=RemoteCommand.Origin.SELF_HEAL)
                    sent += 1
                except Conflict:
                    continue  # disconnected meanwhile
    return sent


def self_heal_on_timeline(*, reason: str, created: dict[int, int]) -> None:
    """A system report just filed (the health sweep's hook): what
    self-healing tried since the charger went into error goes on its
    timeline, with the answer."""
    if reason != Reason.IN_ERROR or not created:
        return
    commands = list(RemoteCommand.objects.filter(charge_point_id__in=created, origin=RemoteCommand.Origin.SELF_HEAL)
                    .select_related("charge_point").order_by("requested_at"))
    if not commands:
        return
    reports = {r.pk: r for r in Report.objects.filter(pk__in=[created[c.charge_point_id] for c in commands])}
    for command in commands:
        if command.requested_at < command.charge_point.state_since:
            continue  # an earlier error spell
        report = reports[created[command.charge_point_id]]
        RemoteCommand.objects.filter(pk=command.pk, report__isnull=True).update(report=report)
        answer = answer_summary(command.status, command.answer)
        report_system_event(report=report, kind=EventKind.REMOTE_COMMAND, note=(
            f"Before filing, self-healing sent {command_summary(command.action, command.payload)} at "
            f"{timezone.localtime(command.requested_at):%Y-%m-%d %H:%M}: {answer}."))
