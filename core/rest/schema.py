"""The schema generator: documents the error responses of every operation."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_examples_list
from drf_spectacular.utils import OpenApiExample

from .errors import ErrorSerializer, error_body

ERROR_EXAMPLES = {
    400: OpenApiExample(
        "Invalid input",
        value=error_body(
            400, "invalid", "The input is not valid; see `fields`.",
            fields={"reason": ["\"flat_tyre\" is not a valid choice."]},
        ),
        response_only=True,
        status_codes=["400"],
    ),
    401: OpenApiExample(
        "No or bad API key",
        value=error_body(401, "not_authenticated", "Authentication credentials were not provided."),
        response_only=True,
        status_codes=["401"],
    ),
    403: OpenApiExample(
        "Role too weak",
        value=error_body(403, "permission_denied", "You are not allowed to resolve this report."),
        response_only=True,
        status_codes=["403"],
    ),
    404: OpenApiExample(
        "Not found (or another team's)",
        value=error_body(404, "not_found", "No Report matches the given query."),
        response_only=True,
        status_codes=["404"],
    ),
    409: OpenApiExample(
        "Transition not allowed",
        value=error_body(
            409, "transition_not_allowed", "Cannot reopen a report that is open.",
            state="open", action="reopen",
        ),
        response_only=True,
        status_codes=["409"],
    ),
    429: OpenApiExample(
        "Throttled",
        value=error_body(429, "throttled", "Request was throttled. Expected available in 12 seconds."),
        response_only=True,
        status_codes=["429"],
    ),
}


RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Calls allowed in the current window for this key and kind of call (read, write, telemetry).",
    "RateLimit-Remaining": "Calls left in the current window: slow down before it reaches 0.",
    "RateLimit-Reset": "Seconds until the window ends and the count starts again.",
    "RateLimit-Policy": "The limit and its window in seconds, e.g. `1200;w=60`.",
}


class AutoSchema(SpectacularAutoSchema):
    """Documents the error responses every operation can give, in the one
    error shape, so clients (and schemathesis) know them, and the RateLimit
    fields every answer carries (core/ratelimit.py)."""

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = dict(super()._get_response_headers_for_code(status_code, direction))
        if str(status_code) in ("401",):
            return headers  # not counted: the caller is not known
        for name, description in RATE_LIMIT_HEADERS.items():
            headers.setdefault(name, {"schema": {"type": "string" if name == "RateLimit-Policy" else "integer"},
                                      "description": description})
        if str(status_code) == "429":
            headers.setdefault("Retry-After", {"schema": {"type": "integer"},
                                               "description": "Seconds to wait before calling again."})
        return headers

    def _error_codes(self) -> list[int]:
        codes = [401, 403, 429]
        has_path_params = "{" in self.path
        is_write = self.method in ("POST", "PUT", "PATCH", "DELETE")
        if is_write or self._is_list_view():
            codes.append(400)
        if has_path_params or self._is_list_view():
            codes.append(404)  # another team's object; a bad page or cursor
        if is_write:
            codes.append(409)
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            key = str(code)
            if key not in responses:
                responses[key] = self._get_response_for_code(ErrorSerializer, key)
                content = responses[key].get("content", {}).get("application/json")
                if content is not None:
                    content["examples"] = build_examples_list([ERROR_EXAMPLES[code]])
        return responses
