"""One charger's OCPP 1.6J conversation: the central system's handlers, on
the ``ocpp`` package's v16 ChargePoint.

What the package does with bad input, and what this class does instead
(OCPP-J 1.6, section 4.2.3 names the CALLERROR codes):

- a frame that is not JSON, or not an OCPP message: the package logs it and
  answers nothing, leaving the charger waiting for its timeout. Here it gets
  ``FormationViolation`` (not JSON, or not ``[2, "<id>", "<Action>", {...}]``)
  or ``ProtocolError`` (the wrong number of elements) or
  ``PropertyConstraintViolation`` (an unknown message type id);
- an unknown action: the package answers ``NotSupported`` for an action OCPP
  1.6 does not know and ``NotImplemented`` for a known one without a handler,
  the reverse of the 1.6 table. Here: unknown -> ``NotImplemented``, known
  but not handled by a central system -> ``NotSupported``;
- a payload that breaks the schema: the package answers ``FormatViolation``
  (the OCPP 2.0 spelling) for a bad enum value among others. Here: a bad
  enum or value -> ``PropertyConstraintViolation``, a wrong type or too long
  a string -> ``TypeConstraintViolation``, a missing field ->
  ``ProtocolError``, an unexpected field -> ``FormationViolation``.

The connection stays open in every case, and nothing of such a message is
stored. A handler that fails (say the database is down) answers
``InternalError``: a CALLRESULT is only sent once the message is stored.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from ocpp.charge_point import remove_nones, serialize_as_dict
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, CallError, MessageType, get_validator, unpack
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    DataTransferStatus,
    RegistrationStatus,
)

from .dispatch import _camel_case, _snake_case, _wants_unique_id
from .payloads import SIGNAL_MESSAGE_ID, _energy_wh, _signal, charger_time
from .schema import _accepts

logger = logging.getLogger("gateway")

# Actions a charger sends to a central system. Any other known 1.6 action
# sent to us is NotSupported; an unknown one NotImplemented.
FROM_CHARGER = {
    Action.authorize, Action.boot_notification, Action.data_transfer, Action.diagnostics_status_notification,
    Action.firmware_status_notification, Action.heartbeat, Action.meter_values, Action.start_transaction,
    Action.status_notification, Action.stop_transaction,
}
KNOWN_ACTIONS = {action.value for action in Action}
SCHEMA_ERROR_CODES = {
    "enum": "PropertyConstraintViolation",
    "minimum": "PropertyConstraintViolation",
    "maximum": "PropertyConstraintViolation",
    "format": "PropertyConstraintViolation",
    "type": "TypeConstraintViolation",
    "maxLength": "TypeConstraintViolation",
    "required": "ProtocolError",
    "additionalProperties": "FormationViolation",
}
UNIQUE_ID = re.compile(r'^\s*\[\s*\d+\s*,\s*"([^"\\]{1,36})"')


def _error(unique_id: str, code: str, description: str) -> str:
    return CallError(unique_id, code, description[:255], {}).to_json()


class CentralSystem(ChargePoint):
    """The handlers for one connected charger. ``session`` (gateway.server)
    records telemetry through the process's batcher and knows the charge
    point's id."""

    def __init__(self, ocpp_id, connection, *, session, **kwargs):
        super().__init__(ocpp_id, connection, **kwargs)
        self.session = session

    # --- Routing with the 1.6 error codes -------------------------------------------

    async def route_message(self, raw_msg):
        try:
            msg = unpack(raw_msg)
        except OCPPError as error:
            match = UNIQUE_ID.match(raw_msg) if isinstance(raw_msg, str) else None
            code = "FormationViolation" if error.code in ("FormatViolation", "FormationViolation") else error.code
            if code == "ProtocolError" and "list" in str(error.details.get("cause", "")):
                code = "FormationViolation"
            logger.warning("%s: unparseable frame (%s)", self.id, code)
            await self._send(_error(match.group(1) if match else "-1", code, str(error.details.get("cause", ""))))
            return
        if msg.message_type_id != MessageType.Call:
            await super().route_message(raw_msg)  # an answer to one of our calls
            return
        problem = self._check_call(msg)
        if problem:
            code, description = problem
            logger.warning("%s: %s refused with %s: %s", self.id, msg.action, code, description)
            await self._send(_error(msg.unique_id if isinstance(msg.unique_id, str) else "-1", code, description))
            return
        self.session.message_seen()
        try:
            await self._handle_call(msg)
        except OCPPError as error:
            await self._send(msg.create_call_error(error).to_json())

    def _check_call(self, msg: Call) -> tuple[str, str] | None:
        if not isinstance(msg.unique_id, str) or not 0 < len(msg.unique_id) <= 36:
            return "FormationViolation", "The message id must be a string of at most 36 characters."
        if not isinstance(msg.action, str) or not isinstance(msg.payload, dict):
            return "FormationViolation", "A CALL is [2, \"<id>\", \"<Action>\", {<payload>}]."
        if msg.action not in KNOWN_ACTIONS:
            return "NotImplemented", f"Unknown action {msg.action[:50]}."
        if msg.action not in FROM_CHARGER or msg.action not in self.route_map:
            return "NotSupported", f"A central system does not take {msg.action}."
        if _accepts(msg.action, msg.payload):
            return None
        # Only a payload the quick check turns down goes through jsonschema,
        # which names the first problem (the CALLERROR's code and text).
        errors = sorted(get_validator(MessageType.Call, msg.action, "1.6").iter_errors(msg.payload),
                        key=lambda e: e.path)
        if errors:
            first = errors[0]
            return SCHEMA_ERROR_CODES.get(first.validator, "FormationViolation"), first.message[:200]
        return None

    async def _handle_call(self, msg: Call) -> None:
        """The package's ``_handle_call`` for a CALL ``_check_call`` let
        through, without its per-message costs (the handler's signature read
        with ``inspect``, key case conversion by regular expressions): the
        payload's keys in snake case to the handler, its answer's in camel
        case back. A handler that raises answers InternalError (or its
        OCPPError's code)."""
        handlers = self.route_map[msg.action]
        handler = handlers["_on_action"]
        kwargs = _snake_case(msg.payload)
        try:
            if _wants_unique_id(handler):
                response = await handler(**kwargs, call_unique_id=msg.unique_id)
            else:
                response = await handler(**kwargs)
        except Exception as error:
            self.logger.exception("Error while handling request '%s'", msg)
            await self._send(msg.create_call_error(error).to_json())
            return
        payload = _camel_case(remove_nones(serialize_as_dict(response)))
        await self._send(msg.create_call_result(payload).to_json())
        after = handlers.get("_after_action")
        if after is not None:  # an @after hook, as the package runs it: not awaited
            result = after(**kwargs, call_unique_id=msg.unique_id) if _wants_unique_id(after) else after(**kwargs)
            if inspect.isawaitable(result):
                asyncio.ensure_future(result)

    # --- Handlers -------------------------------------------------------------------

    def _now(self) -> datetime:
        return timezone.now()

    @on(Action.boot_notification, skip_schema_validation=True)
    async def on_boot(self, charge_point_vendor, charge_point_model, **kwargs):
        now = self._now()
        await self.session.record([self.session.event(
            "boot", now, vendor=charge_point_vendor[:100], model=charge_point_model[:100],
            serial_number=(kwargs.get("charge_point_serial_number") or kwargs.get("charge_box_serial_number")
                           or "")[:100],
            firmware_version=(kwargs.get("firmware_version") or "")[:100],
        )])
        return call_result.BootNotification(
            current_time=now.isoformat(), interval=settings.OCPP["heartbeat_interval"],
            status=RegistrationStatus.accepted,
        )

    @on(Action.heartbeat, skip_schema_validation=True)
    async def on_heartbeat(self):
        now = self._now()
        await self.session.record([self.session.event("heartbeat", now)])
        return call_result.Heartbeat(current_time=now.isoformat())

    @on(Action.status_notification, skip_schema_validation=True)
    async def on_status(self, connector_id, error_code, status, timestamp=None, vendor_error_code=None, **kwargs):
        now = self._now()
        await self.session.record([self.session.event(
            "state_change", charger_time(timestamp, now=now), connector=connector_id, status=status,
            error_code=error_code, vendor_error_code=vendor_error_code or "",
        )])
        return call_result.StatusNotification()

    @on(Action.authorize, skip_schema_validation=True)
    async def on_authorize(self, id_tag):
        # Not an authorisation system: every id tag is accepted (docs/ocpp.md).
        await self.session.record([])
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction, skip_schema_validation=True)
    async def on_start_transaction(self, connector_id, id_tag, meter_start, timestamp, **kwargs):
        transaction_id = await self.session.start_transaction(
            connector=connector_id, id_tag=id_tag, meter_start_wh=meter_start,
            started_at=charger_time(timestamp, now=self._now()),
        )
        return call_result.StartTransaction(transaction_id=transaction_id,
                                            id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.meter_values, skip_schema_validation=True)
    async def on_meter_values(self, connector_id, meter_value, transaction_id=None, **kwargs):
        energy = _energy_wh(meter_value)
        await self.session.record([], meter=(transaction_id, energy) if transaction_id and energy is not None
                                  else None)
        return call_result.MeterValues()

    @on(Action.stop_transaction, skip_schema_validation=True)
    async def on_stop_transaction(self, meter_stop, timestamp, transaction_id, reason=None, **kwargs):
        await self.session.stop_transaction(
            transaction_id=transaction_id, meter_stop_wh=meter_stop,
            ended_at=charger_time(timestamp, now=self._now()), reason=reason or "Local",
        )
        return call_result.StopTransaction(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.data_transfer, skip_schema_validation=True)
    async def on_data_transfer(self, vendor_id, message_id=None, data=None):
        if vendor_id != settings.OCPP["signal_vendor_id"]:
            await self.session.record([])
            return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)
        if message_id != SIGNAL_MESSAGE_ID:
            await self.session.record([])
            return call_result.DataTransfer(status=DataTransferStatus.unknown_message_id)
        signal = _signal(data)
        if signal is None:
            logger.warning("%s: SignalStrength with bad data %r", self.id, (data or "")[:200])
            await self.session.record([])
            return call_result.DataTransfer(status=DataTransferStatus.rejected, data="Expected "
                                            '{"network": "wifi"|"cellular", "dbm": <-150..0>}')
        network, dbm = signal
        results = await self.session.record([self.session.event("signal", self._now(), kind=network, dbm=dbm)])
        status = DataTransferStatus.accepted if results[0].status != "rejected" else DataTransferStatus.rejected
        return call_result.DataTransfer(status=status)

    @on(Action.diagnostics_status_notification, skip_schema_validation=True)
    async def on_diagnostics_status(self, status):
        await self.session.record([])
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification, skip_schema_validation=True)
    async def on_firmware_status(self, status):
        await self.session.record([])
        return call_result.FirmwareStatusNotification()
