"""Request parsers for the API."""

from __future__ import annotations

import json

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Far deeper than any input of this API (a report with its messages is 3).
MAX_JSON_DEPTH = 32


def json_too_deep(value, *, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than ``limit``. Iterative, so a
    hostile document cannot exhaust the stack while it is measured."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def loads_limited(raw: bytes | str, *, limit: int = MAX_JSON_DEPTH):
    """``json.loads`` that raises ValueError, never RecursionError, for a
    document nested deeper than ``limit``."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {limit} levels.") from None
    if json_too_deep(data, limit=limit):
        raise ValueError(f"JSON nested deeper than {limit} levels.")
    return data


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a nesting limit: a document nested a thousand
    levels deep is a 400, not a RecursionError (500) in the decoder or in
    whatever walks the data later."""

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if json_too_deep(data):
            raise too_deep
        return data
