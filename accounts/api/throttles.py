"""Rate limits on the API, per API key and kind of call (reads, writes,
telemetry), with the limits each team's support-set values or the
installation's defaults (settings.API_RATE_LIMITS); a logged-in user of the
browsable API has one limit of their own. Counting and the answer's
RateLimit fields: core/ratelimit.py."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiKey
from accounts.services import api_key_note_throttled
from core.ratelimit import rate_limit_hit, rate_limit_remember

WINDOW = 60
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
TEAM_FIELD = {
    "read": "api_reads_per_minute",
    "write": "api_writes_per_minute",
    "telemetry": "api_telemetry_per_minute",
}


def call_kind(request, view) -> str:
    """telemetry (a view that says so), write (a method that changes
    something) or read."""
    if getattr(view, "rate_kind", None) == "telemetry":
        return "telemetry"
    return "read" if request.method in SAFE_METHODS else "write"


def key_limit(api_key: ApiKey, kind: str) -> int:
    team = api_key.team if api_key.team_id else None
    own = getattr(team, TEAM_FIELD[kind], None) if team is not None else None
    return own or settings.API_RATE_LIMITS[kind]


class _Throttle(BaseThrottle):
    def __init__(self):
        self._decision = None

    def _count(self, request, key: str, limit: int) -> bool:
        self._decision = rate_limit_hit(key, limit=limit, window=WINDOW)
        rate_limit_remember(request, self._decision)
        return self._decision.allowed

    def wait(self):
        return None if self._decision is None else self._decision.reset


class ApiKeyRateThrottle(_Throttle):
    """Calls per API key, per kind of call, within the key's team's limits."""

    def allow_request(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return True
        kind = call_kind(request, view)
        allowed = self._count(request, f"api:key:{request.auth.pk}:{kind}", key_limit(request.auth, kind))
        if not allowed:
            api_key_note_throttled(api_key=request.auth)
        return allowed


class SessionUserRateThrottle(_Throttle):
    """Calls per logged-in user of the browsable API."""

    def allow_request(self, request, view):
        if isinstance(request.auth, ApiKey) or not request.user.is_authenticated:
            return True
        return self._count(request, f"api:user:{request.user.pk}", settings.API_RATE_LIMITS["user"])
