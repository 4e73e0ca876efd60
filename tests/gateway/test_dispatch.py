"""CentralSystem's own CALL dispatch (gateway.protocol.central_system), without a socket:
the answers, an @after hook, and a handler that fails."""

from __future__ import annotations

import asyncio
import json

from ocpp.routing import after, on
from ocpp.v16.enums import Action

from gateway.protocol import CentralSystem


class Wire:
    def __init__(self):
        self.sent = []

    async def send(self, message):
        self.sent.append(json.loads(message))

    async def recv(self):
        raise AssertionError("not used")


class Session:
    def __init__(self, fail=False):
        self.recorded, self.fail = [], fail

    def message_seen(self):
        pass

    def event(self, event_type, at, **values):
        return {"type": event_type, **values}

    async def record(self, events, *, meter=None):
        if self.fail:
            raise RuntimeError("database down")
        self.recorded.append((events, meter))
        return []


def run(central, *frames):
    async def go():
        for frame in frames:
            await central.route_message(json.dumps(frame))
            await asyncio.sleep(0)
    asyncio.run(go())


def test_a_status_is_recorded_and_answered_with_an_empty_callresult():
    wire, session = Wire(), Session()
    central = CentralSystem("CP-1", wire, session=session)
    run(central, [2, "a1", "StatusNotification", {"connectorId": 2, "errorCode": "GroundFailure",
                                                   "status": "Faulted", "vendorErrorCode": "E7"}])
    assert wire.sent == [[3, "a1", {}]]
    [(events, meter)] = session.recorded
    assert events[0]["connector"] == 2 and events[0]["status"] == "Faulted"
    assert events[0]["error_code"] == "GroundFailure" and events[0]["vendor_error_code"] == "E7"


def test_a_heartbeat_is_answered_with_the_time_in_camel_case():
    wire = Wire()
    run(CentralSystem("CP-1", wire, session=Session()), [2, "h1", "Heartbeat", {}])
    [[kind, unique_id, payload]] = wire.sent
    assert (kind, unique_id, list(payload)) == (3, "h1", ["currentTime"])


def test_a_failing_handler_answers_internal_error():
    wire = Wire()
    run(CentralSystem("CP-1", wire, session=Session(fail=True)), [2, "s1", "Heartbeat", {}])
    assert wire.sent[0][:3] == [4, "s1", "InternalError"]


class WithHooks(CentralSystem):
    seen: list

    @after(Action.heartbeat)
    async def after_heartbeat(self, call_unique_id):
        self.seen.append(call_unique_id)

    @on(Action.authorize, skip_schema_validation=True)
    async def on_authorize(self, id_tag, call_unique_id):
        self.seen.append((id_tag, call_unique_id))
        return await super().on_authorize(id_tag)


def test_after_hooks_and_call_unique_id_work_as_in_the_ocpp_package():
    wire = Wire()
    central = WithHooks("CP-1", wire, session=Session())
    central.seen = []
    run(central, [2, "h2", "Heartbeat", {}], [2, "a2", "Authorize", {"idTag": "TAG"}])
    assert central.seen == ["h2", ("TAG", "a2")]
    assert [m[:2] for m in wire.sent] == [[3, "h2"], [3, "a2"]]
    assert wire.sent[1][2] == {"idTagInfo": {"status": "Accepted"}}
