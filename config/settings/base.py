"""Settings shared by every environment. Everything that differs between
machines is read from the environment through one parser, django-environ
(`env` below); see local.py, production.py, test.py and docs/operations.md."""

from datetime import timedelta
from pathlib import Path

from kombu import Queue

from .channels import *  # noqa: F403  (the OCPP gateway's and the drivers' channels)
from .env import BASE_DIR, VAR_DIR, env

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

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
    "axes",
    "accounts",
    "chargepoints",
    "reporting",
    "notifications",
    "gateway",
    "drivers",
    "privacy",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: answers the lockout page to a locked-out login.
    "axes.middleware.AxesMiddleware",
    # Writes the RateLimit fields of a rate-limited door's answer (core/ratelimit.py).
    "core.ratelimit.RateLimitHeadersMiddleware",
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

# DATABASE_URL, e.g. postgres://user:password@host:5432/name; SQLite by default.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"].get("ENGINE") == "django.db.backends.sqlite3":
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
AUTHENTICATION_BACKENDS = [
    "accounts.login_throttle.LoginThrottleBackend",  # refuses locked-out logins first
    "django.contrib.auth.backends.ModelBackend",
]

# --- Login throttling (django-axes) -----------------------------------------------
# On both back-offices: after LOGIN_FAILURE_LIMIT wrong passwords for one
# account from one address, that account cannot log in from there for
# LOGIN_LOCKOUT_MINUTES (each further try restarts the wait). Another address
# or another account is not affected. Support unlocks in /admin/ (Access
# attempts: delete the row) or with `manage.py axes_reset_username <e-mail>`.
# Behind a proxy, set AXES_IPWARE_* or AXES_CLIENT_IP_CALLABLE so the
# client's address is counted, not the proxy's.
AXES_VERBOSE = False  # no banner at every start of every command
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The login forms' field is "username" (it holds the e-mail address).
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.login_throttle.login_username"
AXES_LOCKOUT_CALLABLE = "accounts.login_throttle.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_ENABLE_ADMIN = False  # registered on the support site (accounts/admin_lockouts.py)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("da", "Dansk")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The project's own files (the favicon), besides each app's static/ folder.
STATICFILES_DIRS = [BASE_DIR / "static"]

# Public address of the back-office, used for links in e-mails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Cache -------------------------------------------------------------------
# API rate limits are counted in the cache. One process can use its own
# memory; several server processes must share one, e.g. CACHE_URL=redis://...
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Celery -----------------------------------------------------------------
# Without CELERY_BROKER_URL the broker is kombu's filesystem transport: it
# needs no server, so `make run` works on a bare machine. Production sets a
# Redis or RabbitMQ URL.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
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
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task taken but not acknowledged goes back to the queue after this
    # many seconds: it must be longer than the longest task may run (the
    # hard time limits below, at most 300 s), or a running task would be
    # handed to a second worker as well (tests/config/test_celery.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = True
# At least once (docs/delivery.md): a task is acknowledged after it ran, a
# task whose worker process died (killed, out of memory) goes back to the
# queue, and a worker reserves one task at a time, so a dead worker holds
# nothing else back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Queues: the health sweep and the e-mail outbox each have their own, so a
# mail backlog never delays a sweep. A worker started without -Q consumes
# every queue below (`make run`); production may run one worker per queue
# (docs/operations.md).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue("celery"), Queue("health"), Queue("email"), Queue("webhooks")]
CELERY_TASK_ROUTES = {
    "reporting.health_sweep": {"queue": "health"},
    "reporting.health_sweep_chunk": {"queue": "health"},
    "gateway.sweep": {"queue": "health"},
    "reporting.response_targets_check": {"queue": "health"},
    "notifications.send": {"queue": "email"},
    "notifications.send_due": {"queue": "email"},
    "webhooks.deliver": {"queue": "webhooks"},
    "webhooks.sweep": {"queue": "webhooks"},
    "webhooks.send_notices": {"queue": "webhooks"},
}
# Time limits (seconds) on every task: at the soft limit the task gets
# SoftTimeLimitExceeded (its transaction rolls back), at the hard limit the
# worker process is killed and replaced. Enforced by the prefork pool.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
# A sweep of one chunk (100,000 charge points) takes well under a second on a
# quiet fleet (docs/benchmarks.md); at the measured 0.2 s per 1,000 reports
# filed, a chunk whose every charge point went down at once (100,000
# reports) takes about 20 s. The limits leave room for a slow database. The
# e-mail tasks send row by row, each row leased from its own claim for
# NOTIFICATIONS_LEASE_SECONDS (one attempt, see notifications/checks.py), so
# their limits only bound a sweep's batches.
CELERY_TASK_ANNOTATIONS = {
    name: {"soft_time_limit": soft, "time_limit": hard}
    for names, soft, hard in [
        (("reporting.health_sweep", "reporting.health_sweep_chunk"),
         env.int("HEALTH_SWEEP_SOFT_TIME_LIMIT", default=240), env.int("HEALTH_SWEEP_TIME_LIMIT", default=300)),
        (("notifications.send", "notifications.send_due"),
         env.int("EMAIL_TASK_SOFT_TIME_LIMIT", default=240), env.int("EMAIL_TASK_TIME_LIMIT", default=300)),
        (("webhooks.deliver", "webhooks.sweep", "webhooks.send_notices"),
         env.int("WEBHOOKS_TASK_SOFT_TIME_LIMIT", default=120), env.int("WEBHOOKS_TASK_TIME_LIMIT", default=180)),
    ]
    for name in names
}
# The worker logs through LOGGING below (timestamps, logger names, JSON on
# request) instead of replacing the root logger with its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# What a task prints (the console e-mail backend of development) is logged
# as information, not as a warning.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
# Keep retrying while the broker is not up yet when a worker starts (and
# say so explicitly: Celery 6 stops reading broker_connection_retry for it).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Connect and socket timeout (seconds) of a publish on commit (core.tasks.publish):
# the work is already in an outbox its sweep catches up, so a request gives
# up on a broker that refuses or hangs rather than wait for it.
TASK_PUBLISH_TIMEOUT_SECONDS = env.float("TASK_PUBLISH_TIMEOUT_SECONDS", default=0.05)
# After a failed publish a process leaves the broker alone for this many
# seconds (the outboxes' sweeps pick the work up): under a broker fault one
# request per pause pays the timeout above, the others nothing.
TASK_PUBLISH_PAUSE_SECONDS = env.float("TASK_PUBLISH_PAUSE_SECONDS", default=5)

# --- Health checks ------------------------------------------------------------
# Defaults for the system health checks (reporting/health/). Support staff
# override them per operator team, or switch a check off, in /admin/.
# "minutes": how long the state must last (more than); "dbm": the signal is
# bad below this; "window_minutes"/"min_readings": what "sustained" means.
HEALTH_CHECKS = {
    # Resolve a system report when its condition clears (unless a person took it).
    "auto_resolve": env.bool("HEALTH_AUTO_RESOLVE", default=True),
    # A sweep over more charge points than this is split into chunk tasks
    # (by charge point id range) so that several workers share it.
    "sweep_chunk_size": env.int("HEALTH_SWEEP_CHUNK_SIZE", default=100_000),
    # A charge point that changes between healthy and unhealthy more than
    # ``flips`` times within ``window_minutes`` (for one check) keeps one
    # report open, marked flapping; it resolves once the condition has been
    # gone for ``hold_down_minutes``.
    # A site outage: at least ``percent`` % of a site's charge points, and at
    # least ``min_charge_points``, disconnected (as the disconnected check
    # defines it) is one "site offline" report, not one per charge point.
    "site_outage": {
        "enabled": env.bool("HEALTH_SITE_OUTAGE_ENABLED", default=True),
        "percent": env.int("HEALTH_SITE_OUTAGE_PERCENT", default=80),
        "min_charge_points": env.int("HEALTH_SITE_OUTAGE_MIN_CHARGE_POINTS", default=2),
    },
    "flapping": {
        "flips": env.int("HEALTH_FLAPPING_FLIPS", default=4),
        "window_minutes": env.int("HEALTH_FLAPPING_WINDOW_MINUTES", default=60),
        "hold_down_minutes": env.int("HEALTH_FLAPPING_HOLD_DOWN_MINUTES", default=30),
    },
    "disconnected": {"enabled": True, "minutes": 10},
    "in_error": {"enabled": True, "minutes": 10},
    "failed_charges": {"enabled": True, "count": 3, "window_minutes": 60},
    "bad_wifi": {"enabled": True, "dbm": -80, "window_minutes": 15, "min_readings": 3},
    "bad_cell_signal": {"enabled": True, "dbm": -105, "window_minutes": 15, "min_readings": 3},
}

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

# --- E-mail -------------------------------------------------------------------
# EMAIL_URL says where Django's SMTP backend sends, host, port, user, password
# and TLS in one value: smtp+tls://user:password@smtp.example.com:587 (STARTTLS),
# smtp+ssl://...:465 (TLS from the first byte), smtp://...:25 (plain); an
# optional ?timeout=20 sets EMAIL_TIMEOUT. Percent-encode @ : / in the
# password. The default prints e-mails on the console.
_email = env.email_url("EMAIL_URL", default="consolemail://")
# A provider's API through django-anymail instead of SMTP, e.g.
# EMAIL_BACKEND=anymail.backends.postmark.EmailBackend; it wins over EMAIL_URL.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=_email["EMAIL_BACKEND"])
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_PORT = _email["EMAIL_PORT"] or (465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25)
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
# Seconds one SMTP conversation may take; Django's SMTP backend would
# otherwise wait forever. The notification outbox's lease
# (NOTIFICATIONS_LEASE_SECONDS) must cover one attempt (a system check says so).
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=_email.get("OPTIONS", {}).get("TIMEOUT", 30))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="reports@localhost")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Provider settings for django-anymail, one environment variable each:
# ANYMAIL_<NAME> becomes ANYMAIL["<NAME>"], e.g. with
# EMAIL_BACKEND=anymail.backends.postmark.EmailBackend set
# ANYMAIL_POSTMARK_SERVER_TOKEN. ANYMAIL_WEBHOOK_SECRET ("user:password") is
# the basic auth the provider's tracking webhook must send to
# /anymail/<provider>/tracking/; without it those webhooks answer 403.
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): env.str(key)
    for key in sorted(env.ENVIRON)
    if key.startswith("ANYMAIL_") and env.ENVIRON[key]
}
# The provider whose delivery-tracking webhook is mounted at
# /anymail/<provider>/tracking/ (anymail's name, e.g. postmark, amazon_ses):
# by default the one EMAIL_BACKEND sends through; empty mounts none.
_backend_provider = EMAIL_BACKEND.split(".")[2] if EMAIL_BACKEND.startswith("anymail.backends.") else ""
EMAIL_TRACKING_PROVIDER = env.str(
    "EMAIL_TRACKING_PROVIDER", default="" if _backend_provider in {"test", "console"} else _backend_provider
)
# Seconds before a provider's API call times out (the same bound as EMAIL_TIMEOUT).
ANYMAIL["REQUESTS_TIMEOUT"] = env.float("ANYMAIL_REQUESTS_TIMEOUT", default=30)
# The outbox (docs/delivery.md). A row being sent belongs to its worker for
# NOTIFICATIONS_LEASE_SECONDS; a worker that dies mid-send loses its rows to
# the first sweep after that, so with the sweep every minute they go out
# again within lease + 60 s. The system check notifications.E001 refuses a
# lease shorter than one attempt (twice the send timeout: connecting, then
# waiting for the answer).
NOTIFICATIONS_LEASE_SECONDS = env.int("NOTIFICATIONS_LEASE_SECONDS", default=60)
# How long one sweep keeps sending batch after batch (it runs every minute;
# sweeps that overlap are harmless), and how early a retry may be taken so
# that the sweep after its backoff, not the one after that, sends it.
NOTIFICATIONS_SWEEP_SECONDS = env.float("NOTIFICATIONS_SWEEP_SECONDS", default=50)
NOTIFICATIONS_SWEEP_TOLERANCE_SECONDS = env.float("NOTIFICATIONS_SWEEP_TOLERANCE_SECONDS", default=10)
# Digests (docs/delivery.md): more than NOTIFICATIONS_BURST_THRESHOLD new
# reports for one team within NOTIFICATIONS_BURST_WINDOW_SECONDS go out as one
# digest, sent when the window is over, even for a team that has immediate
# e-mails (a team's report settings may set its own threshold).
NOTIFICATIONS_BURST_THRESHOLD = env.int("NOTIFICATIONS_BURST_THRESHOLD", default=20)
NOTIFICATIONS_BURST_WINDOW_SECONDS = env.int("NOTIFICATIONS_BURST_WINDOW_SECONDS", default=60)
# Response-time targets (docs/response-targets.md): a report is "at risk" when
# less than this share of its target is left; a missed target whose
# escalation is "e-mail support" goes to RESPONSE_TARGETS_SUPPORT_EMAIL
# (empty: nobody is e-mailed, the timeline still says so).
RESPONSE_TARGETS_AT_RISK_SHARE = env.float("RESPONSE_TARGETS_AT_RISK_SHARE", default=0.2)
RESPONSE_TARGETS_SUPPORT_EMAIL = env.str("RESPONSE_TARGETS_SUPPORT_EMAIL", default="")

# Webhooks (docs/webhooks.md). Each attempt: connect within
# WEBHOOKS_CONNECT_TIMEOUT_SECONDS, an answer within WEBHOOKS_READ_TIMEOUT_SECONDS;
# a row being sent belongs to its worker for WEBHOOKS_LEASE_SECONDS (longer
# than one attempt). Retries after 5 s, 10 s, 20 s ... at most an hour apart
# (with jitter), for at most WEBHOOKS_MAX_ATTEMPTS; an endpoint whose every
# attempt failed for WEBHOOKS_DISABLE_AFTER_SECONDS is switched off.
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", default=5)
WEBHOOKS_READ_TIMEOUT_SECONDS = env.float("WEBHOOKS_READ_TIMEOUT_SECONDS", default=15)
WEBHOOKS_LEASE_SECONDS = env.int("WEBHOOKS_LEASE_SECONDS", default=60)
WEBHOOKS_FIRST_RETRY_SECONDS = env.float("WEBHOOKS_FIRST_RETRY_SECONDS", default=5)
WEBHOOKS_MAX_RETRY_SECONDS = env.float("WEBHOOKS_MAX_RETRY_SECONDS", default=3600)
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=40)
WEBHOOKS_DISABLE_AFTER_SECONDS = env.int("WEBHOOKS_DISABLE_AFTER_SECONDS", default=24 * 3600)
WEBHOOKS_SWEEP_SECONDS = env.float("WEBHOOKS_SWEEP_SECONDS", default=50)
# After a rotation both the former and the new secret sign for this long.
WEBHOOKS_SECRET_GRACE_SECONDS = env.int("WEBHOOKS_SECRET_GRACE_SECONDS", default=24 * 3600)
# SSRF: never send to private, loopback, link-local, reserved or multicast
# addresses, and only over https. Tests with a local receiver override both.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOKS_REQUIRE_HTTPS = env.bool("WEBHOOKS_REQUIRE_HTTPS", default=True)
# The wait before the first retry of a failed send; each further retry waits
# twice as long, at most an hour. The sweep tolerance must stay below it.
NOTIFICATIONS_FIRST_BACKOFF_SECONDS = env.float("NOTIFICATIONS_FIRST_BACKOFF_SECONDS", default=60)

# The address printed in the QR stickers: <base>/r/<public code>/. A short
# domain makes a smaller, easier-to-scan code.
PUBLIC_REPORT_BASE_URL = env.str("PUBLIC_REPORT_BASE_URL", default=SITE_URL).rstrip("/")
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["UserReasonEnum"] = "drivers.api.serializers.USER_REASON_CHOICES"

# --- Logging ------------------------------------------------------------------
# Every line carries its time, level and logger name (and, inside a Celery
# task, the task's name and id). LOG_FORMAT=json writes one JSON object a
# line for a log collector.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="text").lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"task": {"()": "config.log_format.CeleryTaskFilter"}},
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s%(task)s: %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        },
        "json": {"()": "config.log_format.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["task"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Every OCPP frame in and out: DEBUG shows them, and at fleet scale they
    # would drown everything else.
    "loggers": {"gateway.messages": {"level": env.str("OCPP_MESSAGE_LOG_LEVEL", default="WARNING")},
                "websockets": {"level": "WARNING"}},
}


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
