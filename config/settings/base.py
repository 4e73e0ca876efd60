"""Settings shared by every environment. Everything that differs between
machines is read from the environment; see local.py, production.py, test.py."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "anymail",
    "accounts",
    "chargepoints",
    "reporting",
    "notifications",
    "drivers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat share one SQLite file
    # without "database is locked" errors on every concurrent write.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("da", "Dansk")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Public address of the back-office, used for links in e-mails.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Cache -------------------------------------------------------------------
# API rate limits are counted in the cache. One process can use its own
# memory; several server processes must share one, e.g. CACHE_URL=redis://...
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------
# Without CELERY_BROKER_URL the broker is kombu's filesystem transport: it
# needs no server, so `make run` works on a bare machine. Production sets a
# Redis or RabbitMQ URL.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery-queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "control_folder": str(VAR_DIR / "celery-control"),
        "store_processed": False,
    }
    # The transport fails on start when its folders are missing; the web
    # server, the worker and beat all read these settings, so make them here.
    for _folder in ("data_folder_in", "processed_folder", "control_folder"):
        Path(CELERY_BROKER_TRANSPORT_OPTIONS[_folder]).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- Health checks ------------------------------------------------------------
# Defaults for the system health checks (reporting/health/). Support staff
# override them per operator team, or switch a check off, in /admin/.
# "minutes": how long the state must last (more than); "dbm": the signal is
# bad below this; "window_minutes"/"min_readings": what "sustained" means.
HEALTH_CHECKS = {
    # Resolve a system report when its condition clears (unless a person took it).
    "auto_resolve": env_bool("HEALTH_AUTO_RESOLVE", True),
    # A sweep over more charge points than this is split into chunk tasks
    # (by charge point id range) so that several workers share it.
    "sweep_chunk_size": int(os.environ.get("HEALTH_SWEEP_CHUNK_SIZE", "100000")),
    "disconnected": {"enabled": True, "minutes": 10},
    "in_error": {"enabled": True, "minutes": 10},
    "failed_charges": {"enabled": True, "count": 3, "window_minutes": 60},
    "bad_wifi": {"enabled": True, "dbm": -80, "window_minutes": 15, "min_readings": 3},
    "bad_cell_signal": {"enabled": True, "dbm": -105, "window_minutes": 15, "min_readings": 3},
}

# --- REST framework -----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "config.rest.schema.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.rest.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.rest.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.api.throttles.ApiKeyRateThrottle",
        "accounts.api.throttles.SessionUserRateThrottle",
    ],
    # Per API key / per logged-in user; telemetry batches count on their own too.
    "DEFAULT_THROTTLE_RATES": {
        "api_key": os.environ.get("API_THROTTLE_KEY", "1200/min"),
        "user": os.environ.get("API_THROTTLE_USER", "600/min"),
        # 600 batches of up to 1,000 events a minute: 10,000 events/s per key.
        "telemetry": os.environ.get("API_THROTTLE_TELEMETRY", "600/min"),
    },
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
        "ReportStateEnum": "reporting.models.ReportState",
        "ReportEventKindEnum": "reporting.models.EventKind",
        "ChargePointStateEnum": "chargepoints.models.ChargePointState",
        "SignalKindEnum": "chargepoints.models.SignalKind",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- E-mail -------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "reports@localhost")
# Provider settings for django-anymail, one environment variable each:
# ANYMAIL_<NAME> becomes ANYMAIL["<NAME>"], e.g. with
# EMAIL_BACKEND=anymail.backends.postmark.EmailBackend set
# ANYMAIL_POSTMARK_SERVER_TOKEN. ANYMAIL_WEBHOOK_SECRET ("user:password") is
# the basic auth the provider's tracking webhook must send to
# /anymail/<provider>/tracking/; without it those webhooks answer 403.
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_") and value
}
# Seconds before a provider's API call times out; the notification outbox's
# lease (notifications.services.LEASE) must stay far longer than this.
ANYMAIL["REQUESTS_TIMEOUT"] = float(ANYMAIL.get("REQUESTS_TIMEOUT", 30))
# The same bound for Django's own SMTP backend, which would otherwise wait forever.
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "30"))

# --- Drivers: public report page, QR stickers, platform key, inbound e-mail ---
# (drivers/, reporting/reporters.py, notifications/inbound.py)
# Report attachments (drivers' photos, e-mail attachments) live here, outside
# any public URL; only a view that checks the viewer serves them.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
# The address printed in the QR stickers: <base>/r/<public code>/. A short
# domain makes a smaller, easier-to-scan code.
PUBLIC_REPORT_BASE_URL = os.environ.get("PUBLIC_REPORT_BASE_URL", SITE_URL).rstrip("/")
DRIVER_REPORTS = {
    # A request bigger than this is refused before its body is read.
    "max_request_bytes": int(os.environ.get("DRIVER_REPORT_MAX_REQUEST_BYTES", 6 * 1024 * 1024)),
    "max_photo_bytes": 5 * 1024 * 1024,
    # Larger images are refused (a small file can decode to a huge image).
    "max_photo_pixels": 40_000_000,
    # Filings allowed per window (seconds): per client address, per charge point.
    "rate_per_address": int(os.environ.get("DRIVER_REPORT_RATE_PER_ADDRESS", "10")),
    "rate_per_charge_point": int(os.environ.get("DRIVER_REPORT_RATE_PER_CHARGE_POINT", "30")),
    "rate_window_seconds": int(os.environ.get("DRIVER_REPORT_RATE_WINDOW_SECONDS", "3600")),
}
# Support conversations by e-mail (Postmark's inbound webhook, through
# anymail, at /anymail/postmark/inbound/, behind ANYMAIL_WEBHOOK_SECRET).
# Replies go out from this address, with a per-report reply address
# <local>+<token>@<domain> so the driver's answer finds its report.
SUPPORT_EMAIL_ADDRESS = os.environ.get("SUPPORT_EMAIL_ADDRESS", "support@localhost")
INBOUND_EMAIL = {
    "max_attachment_bytes": int(os.environ.get("INBOUND_EMAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)),
    "max_attachments": int(os.environ.get("INBOUND_EMAIL_MAX_ATTACHMENTS", "10")),
    "attachment_types": ["image/jpeg", "image/png", "image/gif", "image/heic", "application/pdf", "text/plain"],
}
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["UserReasonEnum"] = "drivers.api.serializers.USER_REASON_CHOICES"
# --- end of the drivers block ---------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
