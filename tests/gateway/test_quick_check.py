"""The gateway's quick schema check (gateway.protocol.schema) against jsonschema:
it may only call valid what the OCPP 1.6 schema accepts, and it must call
the usual messages valid (else it saves nothing)."""

from __future__ import annotations

import copy
import random

import pytest
from ocpp.messages import MessageType, get_validator

from gateway.protocol import FROM_CHARGER
from gateway.protocol.schema import _accepts

VALID = {
    "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "status": "Available",
                           "timestamp": "2026-05-01T12:00:00Z", "info": "x", "vendorErrorCode": "E1"},
    "MeterValues": {"connectorId": 1, "transactionId": 7, "meterValue": [
        {"timestamp": "2026-05-01T12:00:00Z", "sampledValue": [
            {"value": "12.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"}]}]},
    "Heartbeat": {},
    "BootNotification": {"chargePointVendor": "V", "chargePointModel": "M", "firmwareVersion": "1.0"},
    "Authorize": {"idTag": "TAG"},
    "StartTransaction": {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": "2026-05-01T12:00:00Z"},
    "StopTransaction": {"meterStop": 10, "timestamp": "2026-05-01T12:00:00Z", "transactionId": 7,
                        "reason": "Local"},
    "DataTransfer": {"vendorId": "V", "messageId": "M", "data": "{}"},
    "DiagnosticsStatusNotification": {"status": "Idle"},
    "FirmwareStatusNotification": {"status": "Idle"},
}

ODD_VALUES = [None, True, False, 0, 1, -1, 1.0, 1.5, 10**12, "", "x" * 60, "x" * 600, "Available", "NoError",
              "kWh", [], [{}], {}, {"a": 1}, "2026-05-01T12:00:00Z"]


def mutations(payload, rng: random.Random):
    """Payloads near a valid one: a value replaced, a key dropped or added,
    at any depth."""
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((*path, key))
                walk(value, (*path, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                paths.append((*path, i))
                walk(value, (*path, i))

    walk(payload, ())
    for _ in range(400):
        mutated = copy.deepcopy(payload)
        if paths and rng.random() < 0.8:
            path = rng.choice(paths)
            parent = mutated
            for step in path[:-1]:
                parent = parent[step]
            if isinstance(parent, dict) and rng.random() < 0.25:
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
        else:
            mutated[rng.choice(["extra", "connectorId", "status", "meterValue"])] = copy.deepcopy(
                rng.choice(ODD_VALUES))
        yield mutated
    yield "not an object"
    yield []


@pytest.mark.parametrize("action", sorted(VALID))
def test_the_quick_check_never_calls_valid_what_the_schema_refuses(action):
    validator = get_validator(MessageType.Call, action, "1.6")
    assert not list(validator.iter_errors(VALID[action]))
    assert _accepts(action, VALID[action])
    rng = random.Random(action)
    quick = 0
    for payload in mutations(VALID[action], rng):
        if _accepts(action, payload):
            quick += 1
            assert not list(validator.iter_errors(payload)), payload
    assert action == "Heartbeat" or quick < 400  # some mutations are refused


def test_every_action_from_a_charger_has_a_quick_check():
    assert {action.value for action in FROM_CHARGER} == set(VALID)
    for action, payload in VALID.items():
        assert _accepts(action, payload), action
