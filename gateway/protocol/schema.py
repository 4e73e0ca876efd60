"""The quick schema check of a CALL's payload.

jsonschema's Draft4Validator walks a schema keyword by keyword through
generic dispatch for every message: a tenth of the gateway's time at a few
thousand messages a second. The quick check is compiled from the same
schema files into closures and only ever says "valid" for a payload the
validator accepts too: it knows the keywords the OCPP 1.6 request schemas
use (a schema with any other keyword is never quick-checked), and for
anything unusual (a float where an integer goes, say) it says "not sure"
and the validator decides.
"""

from __future__ import annotations

from ocpp.messages import MessageType, get_validator

_IGNORED_KEYWORDS = {"$schema", "title", "id", "description", "format"}  # format: not checked by the validator


def _compile(schema):
    """A function payload -> True when surely valid, or None when the
    schema uses a keyword the quick check does not know."""
    if not isinstance(schema, dict):
        return None
    checks = []
    kind = schema.get("type")
    if "enum" in schema:
        allowed = schema["enum"]
        if not all(type(v) is str for v in allowed):
            return None
        allowed = frozenset(allowed)
        checks.append(lambda value: type(value) is str and value in allowed)
    if kind == "string":
        limit = schema.get("maxLength")
        checks.append((lambda value: type(value) is str) if limit is None
                      else (lambda value: type(value) is str and len(value) <= limit))
    elif kind == "integer":
        checks.append(_number_check(schema, int))
    elif kind == "number":
        checks.append(_number_check(schema, (int, float)))
    elif kind == "boolean":
        checks.append(lambda value: type(value) is bool)
    elif kind == "object":
        check = _object_check(schema)
        if check is None:
            return None
        checks.append(check)
    elif kind == "array":
        check = _array_check(schema)
        if check is None:
            return None
        checks.append(check)
    elif kind is not None:
        return None
    known = _IGNORED_KEYWORDS | {"type", "enum", "maxLength", "minimum", "maximum", "multipleOf", "properties",
                                 "additionalProperties", "required", "items", "minItems", "maxItems"}
    if set(schema) - known or ("multipleOf" in schema and kind != "number") or not checks:
        return None
    if kind != "string" and "maxLength" in schema:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _number_check(schema, types):
    low, high, step = schema.get("minimum"), schema.get("maximum"), schema.get("multipleOf")
    if step is not None or schema.get("exclusiveMinimum") or schema.get("exclusiveMaximum"):
        return lambda value: False  # rare: the validator decides
    exact = (types,) if isinstance(types, type) else types

    def check(value):
        return (type(value) in exact and (low is None or value >= low) and (high is None or value <= high))
    return check


def _object_check(schema):
    properties = {}
    for name, sub in schema.get("properties", {}).items():
        properties[name] = _compile(sub)
        if properties[name] is None:
            return None
    extra = schema.get("additionalProperties", True)
    if extra not in (True, False):
        return None
    required = frozenset(schema.get("required", ()))

    def check(value):
        if type(value) is not dict or not required <= value.keys():
            return False
        for key, item in value.items():
            sub = properties.get(key)
            if sub is None:
                if not extra:
                    return False
            elif not sub(item):
                return False
        return True
    return check


def _array_check(schema):
    items = _compile(schema["items"]) if "items" in schema else (lambda value: True)
    if items is None:
        return None
    low, high = schema.get("minItems", 0), schema.get("maxItems")

    def check(value):
        return (type(value) is list and len(value) >= low and (high is None or len(value) <= high)
                and all(items(item) for item in value))
    return check


_QUICK: dict[str, object] = {}


def _accepts(action: str, payload) -> bool:
    """True when the payload surely passes the action's request schema."""
    try:
        check = _QUICK[action]
    except KeyError:
        check = _QUICK[action] = _compile(get_validator(MessageType.Call, action, "1.6").schema) or False
    return bool(check) and check(payload)
