"""A gateway process's side of remote commands (``gateway.commands``): it
renews the process's lease, writes which chargers it holds, picks up the
commands addressed to it, sends each as a CALL on the charger's socket and
records the answer. One database round trip per poll interval, whatever the
number of connections."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from websockets.exceptions import ConnectionClosed

from . import commands
from .models import CommandAction, CommandStatus

logger = logging.getLogger("gateway")


def ocpp_call(action: str, payload: dict):
    """The ocpp package's CALL payload for a stored command."""
    if action == CommandAction.RESET:
        return call.Reset(type=payload["type"])
    if action == CommandAction.TRIGGER_MESSAGE:
        return call.TriggerMessage(requested_message=payload["requestedMessage"])
    if action == CommandAction.CHANGE_AVAILABILITY:
        return call.ChangeAvailability(connector_id=payload["connectorId"], type=payload["type"])
    if action == CommandAction.UNLOCK_CONNECTOR:
        return call.UnlockConnector(connector_id=payload["connectorId"])
    raise ValueError(action)


def _status(answer_status: str) -> str:
    if answer_status in ("Accepted", "Unlocked", "Scheduled"):
        return CommandStatus.ACCEPTED
    if answer_status in ("Rejected", "UnlockFailed", "NotSupported"):
        return CommandStatus.REJECTED
    return CommandStatus.FAILED


class CommandHub:
    def __init__(self, gateway) -> None:
        self.gateway = gateway
        self.process_id: int | None = None
        self.by_charge_point: dict[int, object] = {}  # charge point id -> Session
        self.opened: dict[int, datetime] = {}
        self.closed: set[int] = set()
        self.tasks: set[asyncio.Task] = set()
        self.token = secrets.token_hex(16)
        self.wake = asyncio.Event()
        self.listener: asyncio.Task | None = None

    # --- What the server tells it ------------------------------------------------

    def connected(self, session) -> None:
        self.by_charge_point[session.charge_point_id] = session
        self.opened[session.charge_point_id] = timezone.now()
        self.closed.discard(session.charge_point_id)

    def disconnected(self, session) -> None:
        if self.by_charge_point.get(session.charge_point_id) is session:
            del self.by_charge_point[session.charge_point_id]
            self.opened.pop(session.charge_point_id, None)
            self.closed.add(session.charge_point_id)

    # --- The loop ----------------------------------------------------------------

    async def start(self) -> None:
        """Register the process (its lease). A database that is not there yet
        does not stop the gateway: the next poll tries again."""
        try:
            await self.register()
        except Exception as error:
            logger.warning("Remote commands: the gateway process could not register yet (%s)", error)

    async def register(self) -> None:
        self.process_id = await self.gateway.db(
            commands.gateway_process_start, token=self.token, hostname=socket.gethostname(),
            pid=os.getpid())

    async def run(self) -> None:
        self.listener = asyncio.create_task(self.listen())
        try:
            await self._loop()
        finally:
            self.listener.cancel()

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.wake.wait(), self.gateway.config.command_poll_interval)
            except TimeoutError:
                pass
            self.wake.clear()
            try:
                await self.poll()
            except Exception:
                logger.exception("Remote commands: the poll failed; trying again")

    async def listen(self) -> None:
        """With Redis: a new command for this process wakes the loop at once."""
        url = settings.OCPP["command_redis_url"]
        if not url:
            return
        import redis.asyncio as redis

        while True:
            client = redis.Redis.from_url(url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(commands.nudge_channel(self.token))
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("Remote commands: Redis subscription lost (%s); polling meanwhile", error)
                await asyncio.sleep(5)
            finally:
                await client.aclose()

    async def poll(self) -> None:
        if self.process_id is None:
            await self.register()
        opened, closed = self.opened, self.closed
        self.opened, self.closed = {}, set()
        try:
            claimed = await self.gateway.db(commands.gateway_poll, process_id=self.process_id, opened=opened,
                                            closed=closed)
        except Exception:
            # Written next time; a newer open or close of the same charger wins.
            self.opened = {**{k: v for k, v in opened.items() if k not in self.closed}, **self.opened}
            self.closed = (closed - set(self.opened)) | self.closed
            raise
        if claimed is None:
            logger.warning("Remote commands: this gateway process was taken for dead; registering again")
            self.process_id = None
            now = timezone.now()
            self.opened = {**{cp_id: now for cp_id in self.by_charge_point}, **self.opened}
            self.closed -= set(self.opened)
            self.wake.set()
            return
        for command in claimed:
            task = asyncio.create_task(self.send(command))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def send(self, command: commands.Claimed) -> None:
        session = self.by_charge_point.get(command.charge_point_id)
        central = getattr(session, "central", None)
        status, answer = CommandStatus.FAILED, {"error_code": "NotConnected",
                                                "description": "The charger disconnected before it was sent."}
        if central is not None:
            remaining = (command.deadline_at - timezone.now()).total_seconds()
            try:
                if remaining <= 0:
                    raise TimeoutError
                result = await asyncio.wait_for(
                    central.call(ocpp_call(command.action, command.payload), suppress=False), remaining)
                status, answer = _status(result.status), {"status": result.status}
            except TimeoutError:
                status, answer = CommandStatus.TIMED_OUT, None
            except OCPPError as error:
                answer = {"error_code": error.code, "description": str(error.description)[:200]}
            except ConnectionClosed:
                pass
        logger.info("%s: %s answered %s", getattr(session, "ocpp_id", command.charge_point_id), command.action,
                    answer)
        await self.gateway.db(commands.command_finish, command_id=command.id, status=status, answer=answer)

    async def stop(self) -> None:
        for task in [*self.tasks, self.listener]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*self.tasks, *([self.listener] if self.listener else []), return_exceptions=True)
        if self.process_id is not None:
            await self.gateway.db(commands.gateway_process_stop, process_id=self.process_id)
