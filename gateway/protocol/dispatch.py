"""Calling a handler cheaply: whether it takes ``call_unique_id`` (read once
per function), and the payload's key case, converted as the ``ocpp``
package does but remembered per key.
"""

from __future__ import annotations

import functools
import inspect

from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case


def _wants_unique_id(handler) -> bool:
    """Whether the handler takes ``call_unique_id`` (read once per function,
    not per bound method: those are per connection)."""
    return _takes_unique_id(getattr(handler, "__func__", handler))


@functools.lru_cache(maxsize=256)
def _takes_unique_id(function) -> bool:
    return "call_unique_id" in inspect.signature(function).parameters


@functools.lru_cache(maxsize=2048)
def _snake_key(key: str) -> str:
    return next(iter(camel_to_snake_case({key: None})))


@functools.lru_cache(maxsize=2048)
def _camel_key(key: str) -> str:
    return next(iter(snake_to_camel_case({key: None})))


def _snake_case(data):
    if isinstance(data, dict):
        return {_snake_key(key): _snake_case(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_snake_case(value) for value in data]
    return data


def _camel_case(data):
    if isinstance(data, dict):
        return {_camel_key(key): _camel_case(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_camel_case(value) for value in data]
    return data
