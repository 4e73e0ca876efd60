"""The demo fleet as real OCPP 1.6J chargers: ``simulate_fleet --ocpp URL``
sends what the simulator (chargepoints/simulation.py) makes up through a
running gateway instead of straight into the telemetry service.

Each demo charge point gets a fresh OCPP password (demo data: any password
set before is replaced) and its own websocket, opened with a BootNotification
on its first event. Events become messages:

- a status -> StatusNotification on connector 1, stamped with its time;
- a heartbeat -> Heartbeat;
- a lost connection -> the socket is closed (the gateway records it, at the
  time it notices: the report takes the full 10 minutes);
- a signal reading -> DataTransfer ``SignalStrength``;
- a charge -> StartTransaction and StopTransaction with its times and energy.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import threading
from collections import defaultdict

import websockets
from django.conf import settings
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call

from chargepoints.models import ChargePoint
from chargepoints.services import ACCEPTED, REJECTED, TelemetryResult

from .services import credential_generate

logger = logging.getLogger(__name__)


class _Charger(OcppChargePoint):
    pass


class OcppFleetLink:
    """A callable ``events -> results`` for ``FleetSimulator.send``."""

    def __init__(self, *, url: str, ocpp_ids: list[str]) -> None:
        self.url = url.rstrip("/")
        charge_points = list(ChargePoint.objects.filter(ocpp_id__in=ocpp_ids))
        self.passwords = {cp.ocpp_id: credential_generate(charge_point=cp, by=None) for cp in charge_points}
        self.identity = {cp.ocpp_id: (cp.vendor, cp.model, cp.firmware_version) for cp in charge_points}
        self.chargers: dict[str, tuple[_Charger, asyncio.Task]] = {}
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="ocpp-fleet", daemon=True).start()

    def __call__(self, events: list[dict]) -> list[TelemetryResult]:
        return asyncio.run_coroutine_threadsafe(self._send(events), self.loop).result(timeout=300)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close_all(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def _close_all(self) -> None:
        for ocpp_id in list(self.chargers):
            await self._disconnect(ocpp_id)

    async def _send(self, events: list[dict]) -> list[TelemetryResult]:
        by_cp: dict[str, list[tuple[int, dict]]] = defaultdict(list)
        for index, event in enumerate(events):
            by_cp[event["ocpp_id"]].append((index, event))
        results: list[TelemetryResult | None] = [None] * len(events)

        async def one_charger(items):
            for index, event in items:
                results[index] = await self._send_one(event)

        await asyncio.gather(*(one_charger(items) for items in by_cp.values()))
        return results

    async def _send_one(self, event: dict) -> TelemetryResult:
        ocpp_id = event["ocpp_id"]
        try:
            if event["type"] == "state_change" and event.get("state") == "disconnected":
                await self._disconnect(ocpp_id)
                return TelemetryResult(event["event_id"], ACCEPTED)
            charger = await self._connect(ocpp_id)
            transaction_id = None
            for message in _messages(event):
                if isinstance(message, call.StopTransaction):
                    message.transaction_id = transaction_id
                answer = await charger.call(message, suppress=False)
                if isinstance(message, call.StartTransaction):
                    transaction_id = answer.transaction_id
        except Exception as error:  # a CALLERROR, a refused handshake, a closed socket
            logger.warning("%s: %s not delivered: %s", ocpp_id, event["type"], error)
            return TelemetryResult(event["event_id"], REJECTED, {"ocpp": str(error)[:200]})
        return TelemetryResult(event["event_id"], ACCEPTED)

    async def _connect(self, ocpp_id: str) -> _Charger:
        if ocpp_id in self.chargers and self.chargers[ocpp_id][0]._connection.state.name == "OPEN":
            return self.chargers[ocpp_id][0]
        token = base64.b64encode(f"{ocpp_id}:{self.passwords[ocpp_id]}".encode()).decode()
        websocket = await websockets.connect(f"{self.url}/ocpp/{ocpp_id}", subprotocols=["ocpp1.6"],
                                             additional_headers={"Authorization": f"Basic {token}"})
        charger = _Charger(ocpp_id, websocket, response_timeout=30)
        self.chargers[ocpp_id] = (charger, asyncio.create_task(charger.start()))
        vendor, model, firmware = self.identity[ocpp_id]
        await charger.call(call.BootNotification(charge_point_vendor=vendor or "Demo", charge_point_model=model or "Demo",
                                                 firmware_version=firmware or None), suppress=False)
        return charger

    async def _disconnect(self, ocpp_id: str) -> None:
        charger, task = self.chargers.pop(ocpp_id, (None, None))
        if charger is None:
            return
        await charger._connection.close()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


def _messages(event: dict) -> list:
    kind = event["type"]
    if kind == "heartbeat":
        return [call.Heartbeat()]
    if kind == "state_change":
        return [call.StatusNotification(connector_id=event.get("connector", 1), status=event["status"],
                                        error_code=event.get("error_code") or "NoError",
                                        vendor_error_code=event.get("vendor_error_code") or None,
                                        timestamp=event["occurred_at"])]
    if kind == "signal":
        return [call.DataTransfer(vendor_id=settings.OCPP["signal_vendor_id"], message_id="SignalStrength",
                                  data=json.dumps({"network": event["kind"], "dbm": event["dbm"]}))]
    if kind == "charge":
        return [
            call.StartTransaction(connector_id=1, id_tag="DEMO", meter_start=0, timestamp=event["started_at"]),
            call.StopTransaction(meter_stop=event["energy_wh"], timestamp=event["ended_at"], transaction_id=0,
                                 reason=event.get("stop_reason") or None),
        ]
    raise ValueError(f"No OCPP message for {kind}")
