"""Settings of the integrators' API: the REST framework, the OpenAPI schema
(drf-spectacular) and the rate limits per API key. Read into base.py."""

from .env import env

# --- REST framework -----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "core.rest.schema.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser with a nesting limit (config/rest/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["core.rest.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.rest.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.rest.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.api.throttles.ApiKeyRateThrottle",
        "accounts.api.throttles.SessionUserRateThrottle",
    ],
    # Calls per API key and kind of call (API_RATE_LIMITS below), per user of
    # the browsable API; the RateLimit fields on every answer
    # (core/ratelimit.py, accounts/api/throttles.py).
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Charge point reports API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "The integrators' API: teams, sites, charge points, reports and their "
        "transitions, report settings and telemetry ingest. Authenticate with an "
        "API key (`Authorization: Bearer cpr_…`) created by a team admin in /operator/. "
        "Every error has the same JSON shape (`status`, `code`, `detail`, and `fields` on 400)."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PartyEnum": "reporting.catalogue.Party",
        "ReportReasonEnum": "reporting.catalogue.Reason",
        "ReportStateEnum": "reporting.models.ReportState",
        "ReportEventKindEnum": "reporting.models.EventKind",
        "ChargePointStateEnum": "chargepoints.models.ChargePointState",
        "SignalKindEnum": "chargepoints.models.SignalKind",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}


SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["UserReasonEnum"] = "drivers.api.serializers.USER_REASON_CHOICES"


# --- API rate limits (accounts/api/throttles.py) ---
# Calls per minute per API key, by kind of call; support sets a team's own
# values on the team's page (empty there: these). "user": a logged-in user of
# the browsable API. One telemetry batch carries up to 1,000 events: 600 a
# minute is 10,000 events a second per key.
API_RATE_LIMITS = {
    "read": env.int("API_RATE_READS_PER_MINUTE", default=1200),
    "write": env.int("API_RATE_WRITES_PER_MINUTE", default=300),
    "telemetry": env.int("API_RATE_TELEMETRY_PER_MINUTE", default=600),
    "user": env.int("API_RATE_USER_PER_MINUTE", default=600),
}
