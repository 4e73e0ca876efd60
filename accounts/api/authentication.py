"""API key authentication: ``Authorization: Bearer <key>`` (or ``Api-Key <key>``)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.services import api_key_authenticate

KEYWORDS = {"bearer", "api-key"}


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates a request by an API key. ``request.user`` and
    ``request.auth`` are both the ApiKey: it is the actor of the request."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None  # not ours: let session authentication try
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: expected 'Bearer <API key>'."
            )
        try:
            raw_key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        key = api_key_authenticate(raw_key=raw_key)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        if key.is_platform:
            # A platform key's whole scope is the views that declare it
            # (drivers.api); checked here, before any view code runs, so a
            # new endpoint is closed to it unless it opts in.
            view = (getattr(request, "parser_context", None) or {}).get("view")
            if not getattr(view, "platform_key_allowed", False):
                raise exceptions.PermissionDenied(
                    "A platform key may only file driver reports and read the reports it filed "
                    "(/api/v1/driver-reports/)."
                )
        return key, key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return 'Bearer realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API key created by a team admin in /operator/ (or by support in /admin/), "
                "sent as `Authorization: Bearer cpr_…`. `Authorization: Api-Key cpr_…` works too. "
                "A platform key (the drivers' app, issued by support, bound to no team) may only "
                "use the `driver-reports` endpoints; every other endpoint answers 403 to it."
            ),
        }
