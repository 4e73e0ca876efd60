"""Settings shared by every environment. Everything that differs between
machines is read from the environment through one parser, django-environ
(`env`, in env.py); see local.py, production.py, test.py and docs/operations.md.

This module holds Django's own settings (apps, middleware, templates, the
database, languages, static files, the cache) and reads in one module per
concern, which local.py, production.py, test.py and build.py extend through
this one:

- security.py: logging in (password rules, authentication backends, login
  throttling with django-axes);
- celery.py: the broker, queues, routes, time limits, publishing on commit;
- reports.py: the health checks' defaults and the response-time targets;
- mail.py: sending e-mail (SMTP or a provider through anymail) and the
  notification outbox;
- webhooks.py: teams' webhooks;
- api.py: the REST framework, the OpenAPI schema and the API's rate limits;
- logging.py: log lines (text or JSON);
- channels.py: the OCPP gateway, the drivers' report page, support e-mail
  and personal data.
"""

from .api import *  # noqa: F403
from .celery import *  # noqa: F403
from .channels import *  # noqa: F403  (the OCPP gateway's and the drivers' channels)
from .env import BASE_DIR, env
from .logging import *  # noqa: F403
from .mail import *  # noqa: F403
from .reports import *  # noqa: F403
from .security import *  # noqa: F403
from .telemetry import *  # noqa: F403
from .webhooks import *  # noqa: F403

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The back-office theme (accounts/admin_sites.py); before the admin so its
    # templates win. Its CSS, fonts and scripts are static files: nothing is
    # loaded from the internet.
    "unfold",
    "unfold.contrib.filters",
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
    "performance",
]

# django-unfold, for both back-office sites. Titles and the "View site" link
# are the sites' own (accounts/admin_sites.py); the sidebar is built from
# each site's registry, so it lists only what the user may open.
UNFOLD = {
    "SITE_URL": None,
    "SHOW_VIEW_ON_SITE": False,
    # Django's per-object history stays empty: the audit log and the
    # report's timeline say who changed what.
    "SHOW_HISTORY": False,
    # The language switch in the user menu saves the person's choice
    # (accounts.admin_sites: the site's language view), not a cookie.
    "SHOW_LANGUAGES": True,
    "LANGUAGES": {"action": "accounts.admin_sites.language_action"},
    "SITE_SYMBOL": "ev_station",  # a Material Symbols icon, shipped with the theme's font
    "BORDER_RADIUS": "6px",
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": False,
        "navigation": "accounts.admin_sites.sidebar_navigation",
    },
    "COLORS": {
        # A calm blue for links, buttons and the active menu entry.
        "primary": {
            "50": "oklch(97% .014 254.604)",
            "100": "oklch(93.2% .032 255.585)",
            "200": "oklch(88.2% .059 254.128)",
            "300": "oklch(80.9% .105 251.813)",
            "400": "oklch(70.7% .165 254.624)",
            "500": "oklch(62.3% .214 259.815)",
            "600": "oklch(54.6% .245 262.881)",
            "700": "oklch(48.8% .243 264.376)",
            "800": "oklch(42.4% .199 265.638)",
            "900": "oklch(37.9% .146 265.522)",
            "950": "oklch(28.2% .091 267.935)",
        },
    },
}

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
if DATABASES["default"].get("ENGINE") == "django.db.backends.postgresql" and not env.bool("DATABASE_JIT",
                                                                                         default=False):
    # PostgreSQL's JIT compiles a query whose estimated cost passes
    # jit_above_cost: the report searches' estimates do, and compiling took
    # about 60 ms of each (at 10M reports) to save none. Off for this
    # application's connections (libpq's "options"), whatever the server's
    # default; DATABASE_JIT=true leaves the server's setting.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
if DATABASES["default"].get("ENGINE") == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat share one SQLite file
    # without "database is locked" errors on every concurrent write.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # The covering indexes (INCLUDE columns) are a PostgreSQL read path; on
    # the embedded default they are plain indexes, which is all SQLite
    # needs: no warning on every `migrate` and `make run`.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"

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

# The address printed in the QR stickers: <base>/r/<public code>/. A short
# domain makes a smaller, easier-to-scan code.
PUBLIC_REPORT_BASE_URL = env.str("PUBLIC_REPORT_BASE_URL", default=SITE_URL).rstrip("/")
