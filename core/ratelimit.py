"""One way to limit how often a door is knocked on: the API (per key and
kind of call), the public driver page, the inbound e-mail webhook. Logins
are limited by django-axes (accounts/login_throttle.py).

Counters live in Django's cache, in fixed windows: ``cache.add`` creates a
window's counter atomically and ``cache.incr`` counts, so several web
processes share one count when they share the cache. Production requires a
Redis cache (config/settings/production.py); the embedded default is the
process's own memory, right for `make run`'s one web process.

A limited answer says how close the caller is, with the fields of the IETF
draft "RateLimit header fields for HTTP": ``RateLimit-Limit``,
``RateLimit-Remaining``, ``RateLimit-Reset`` (seconds to the window's end)
and ``RateLimit-Policy`` ("<limit>;w=<window>"); a refusal is a 429 with
``Retry-After``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache

# Where a decision waits for the middleware that writes its headers.
REQUEST_ATTRIBUTE = "_rate_limit_decision"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends
    window: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f"{self.limit};w={self.window}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset))
        return headers


def rate_limit_hit(key: str, *, limit: int, window: int, now: float | None = None) -> Decision:
    """Count one hit on ``key`` (a string naming the door and the caller)."""
    now = time.time() if now is None else now
    start = int(now) // window * window
    reset = max(1, start + window - int(now))
    bucket = f"ratelimit:{key}:{start}"
    if cache.add(bucket, 1, timeout=window + 5):
        count = 1
    else:
        try:
            count = cache.incr(bucket)
        except ValueError:  # expired between add() and incr()
            cache.add(bucket, 1, timeout=window + 5)
            count = 1
    return Decision(allowed=count <= limit, limit=limit, remaining=max(0, limit - count), reset=reset,
                    window=window)


def rate_limit_remember(request, decision: Decision) -> None:
    """Keep the tightest decision of a request for its answer's headers
    (a telemetry call counts against two limits; the caller wants the nearer)."""
    request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    current = getattr(request, REQUEST_ATTRIBUTE, None)
    if current is None or (decision.remaining, -decision.reset) < (current.remaining, -current.reset) \
            or not decision.allowed:
        setattr(request, REQUEST_ATTRIBUTE, decision)


class RateLimitHeadersMiddleware:
    """Writes the RateLimit fields on every answer a limit was counted for,
    refusals included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        decision = getattr(request, REQUEST_ATTRIBUTE, None)
        if decision is not None:
            for name, value in decision.headers().items():
                if name == "Retry-After" and response.has_header(name):
                    continue
                response[name] = value
        return response
