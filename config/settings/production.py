"""Production settings. They fail closed: a missing or unsafe value stops
the process at start-up with ImproperlyConfigured saying what to set,
instead of running on a development default (SQLite, the local-memory
cache, the filesystem broker, e-mails printed on the console, a demo
secret key). docs/operations.md lists every variable."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import CACHES, CELERY_BROKER_URL, DATABASES, EMAIL_BACKEND, MIDDLEWARE, env
from .build import STORAGES  # noqa: F401

_HINT = (
    " See docs/operations.md for every variable; on a development machine use "
    "DJANGO_SETTINGS_MODULE=config.settings.local."
)


def _refuse(message: str):
    raise ImproperlyConfigured(f"Production settings: {message}{_HINT}")


# --- Secret key ---------------------------------------------------------------
MIN_SECRET_KEY_LENGTH = 50
# Pieces of the keys that ship in this repository, in Django's project
# template and in tutorials; a real key is random and has none of them.
_PLACEHOLDER_KEY_MARKERS = (
    "django-insecure", "insecure", "not-secret", "notsecret", "changeme", "change-me",
    "your-secret", "secret-key", "example", "local-development", "test-only", "demo-",
)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    _refuse("DJANGO_SECRET_KEY must be set (a random value of at least 50 characters, e.g. "
            "from `python -c 'import secrets; print(secrets.token_urlsafe(50))'`).")
if len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
    _refuse(f"DJANGO_SECRET_KEY is {len(SECRET_KEY)} characters long; it must be at least "
            f"{MIN_SECRET_KEY_LENGTH} random characters.")
if len(set(SECRET_KEY)) < 5 or any(marker in SECRET_KEY.lower() for marker in _PLACEHOLDER_KEY_MARKERS):
    _refuse("DJANGO_SECRET_KEY looks like a demo, test or placeholder key; generate a random one.")

if env.bool("DJANGO_DEBUG", default=False):
    _refuse("DJANGO_DEBUG must be off: debug pages show settings and code to anyone.")
DEBUG = False

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    _refuse("DJANGO_ALLOWED_HOSTS must name the host names this site answers to (comma-separated).")
if "*" in ALLOWED_HOSTS:
    _refuse("DJANGO_ALLOWED_HOSTS must not contain '*': name the host names.")

if "SITE_URL" not in env.ENVIRON:
    _refuse("SITE_URL must be set to the public address (used in the links of e-mails), "
            "e.g. https://reports.example.com.")

# --- Services -----------------------------------------------------------------
if "DATABASE_URL" not in env.ENVIRON:
    _refuse("DATABASE_URL must be set, e.g. postgres://user:password@db.example.com:5432/reports.")
if DATABASES["default"].get("ENGINE") != "django.db.backends.postgresql":
    _refuse(f"DATABASE_URL must point to PostgreSQL (postgres://...), not "
            f"{DATABASES['default'].get('ENGINE') or 'an unknown scheme'}.")

_SERVER_BROKERS = ("redis://", "rediss://", "amqp://", "amqps://", "pyamqp://")
if "CELERY_BROKER_URL" not in env.ENVIRON:
    _refuse("CELERY_BROKER_URL must be set to a Redis or RabbitMQ URL, e.g. redis://redis.example.com:6379/0.")
if not CELERY_BROKER_URL.startswith(_SERVER_BROKERS):
    _refuse(f"CELERY_BROKER_URL must be a Redis or RabbitMQ URL ({', '.join(_SERVER_BROKERS)}); "
            "the filesystem and memory transports lose tasks between machines.")

_REDIS_CACHES = ("django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache")
if "CACHE_URL" not in env.ENVIRON:
    _refuse("CACHE_URL must be set to a Redis URL shared by every process (the API's rate limits "
            "are counted there), e.g. redis://redis.example.com:6379/1.")
if CACHES["default"]["BACKEND"] not in _REDIS_CACHES:
    _refuse(f"CACHE_URL must be a Redis URL (redis:// or rediss://), not {CACHES['default']['BACKEND']}: "
            "a per-process cache lets every process count its own rate limits.")

_NOT_SENDING = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "anymail.backends.test.EmailBackend",
    "anymail.backends.console.EmailBackend",
)
if "EMAIL_URL" not in env.ENVIRON and "EMAIL_BACKEND" not in env.ENVIRON:
    _refuse("set EMAIL_URL (SMTP, e.g. smtp+tls://user:password@smtp.example.com:587) or EMAIL_BACKEND "
            "(a provider's anymail backend, e.g. anymail.backends.postmark.EmailBackend).")
if EMAIL_BACKEND in _NOT_SENDING:
    _refuse(f"the e-mail backend {EMAIL_BACKEND} sends nothing; set EMAIL_URL or EMAIL_BACKEND to a real one.")

# --- HTTPS --------------------------------------------------------------------
# TLS ends in front of the application (a load balancer or a reverse proxy),
# which must set X-Forwarded-Proto on every request and overwrite whatever a
# client sent in it. DJANGO_SECURE_PROXY_SSL_HEADER= (empty) for a server
# reached directly over TLS.
_proxy_header = env.list("DJANGO_SECURE_PROXY_SSL_HEADER", default=["HTTP_X_FORWARDED_PROTO", "https"])
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header) if _proxy_header else None
if SECURE_PROXY_SSL_HEADER is not None and len(SECURE_PROXY_SSL_HEADER) != 2:
    _refuse("DJANGO_SECURE_PROXY_SSL_HEADER must be 'HEADER,value', e.g. HTTP_X_FORWARDED_PROTO,https.")
# Plain HTTP is answered with a redirect to HTTPS. Off (false) when the
# proxy in front redirects already; check --deploy is then told so.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# A load balancer probes /healthz over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SILENCED_SYSTEM_CHECKS = [] if SECURE_SSL_REDIRECT else ["security.W008"]
# Browsers remember to use HTTPS only for a year, subdomains included;
# preload lets the site be listed in the browsers' own HTTPS-only list.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Static files ---------------------------------------------------------------
# WhiteNoise serves what `make collectstatic` wrote to STATIC_ROOT, right
# after SecurityMiddleware so that HTTPS redirects still come first.
MIDDLEWARE = [*MIDDLEWARE]
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                  "whitenoise.middleware.WhiteNoiseMiddleware")

# A database that does not answer fails a request (and /healthz) within
# seconds instead of holding a web worker for the operating system's TCP
# timeout. DATABASE_URL=...?connect_timeout=N overrides it.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
