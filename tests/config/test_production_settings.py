"""config/settings/production.py fails closed: each test loads the settings
in a fresh Python process with a real environment and reads what it says."""

import json
import subprocess
import sys

import pytest

from tests.config.conftest import PRODUCTION_ENV, REPO, clean_env, run_python

LOAD = "import config.settings.production"
DUMP = """
import json
import config.settings.production as s
print(json.dumps({name: getattr(s, name) for name in %r}, default=str))
"""


def load_settings(env, *names):
    result = run_python(DUMP % (list(names),), env=clean_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# Loads the settings once per environment in one child process: the
# environment is replaced and the settings modules are imported afresh each
# time, so nineteen refusals cost one interpreter start, not nineteen.
REFUSALS = """
import importlib, json, os, sys
results = []
for env in json.load(sys.stdin):
    os.environ.clear()
    os.environ.update(env)
    for name in [m for m in sys.modules if m.startswith("config.settings")]:
        del sys.modules[name]
    try:
        importlib.import_module("config.settings.production")
    except Exception as error:
        results.append(f"{type(error).__module__}.{type(error).__name__}: {error}")
    else:
        results.append(None)
print(json.dumps(results))
"""


def refusals(envs):
    """The ImproperlyConfigured message the settings stop with, per environment."""
    result = subprocess.run(
        [sys.executable, "-c", REFUSALS], input=json.dumps([clean_env(**env) for env in envs]),
        cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refusal(env):
    (message,) = refusals([env])
    assert message is not None, "the production settings loaded although they must refuse"
    return message


def test_a_complete_environment_loads_with_https_enforced(production_env):
    values = load_settings(
        production_env,
        "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER",
        "MIDDLEWARE", "STORAGES", "DATABASES", "CACHES", "SILENCED_SYSTEM_CHECKS",
    )
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SILENCED_SYSTEM_CHECKS"] == []
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and values["SECURE_HSTS_PRELOAD"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    middleware = values["MIDDLEWARE"]
    assert middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") == (
        middleware.index("django.middleware.security.SecurityMiddleware") + 1
    )
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    database = values["DATABASES"]["default"]
    assert (database["ENGINE"], database["HOST"], database["NAME"]) == (
        "django.db.backends.postgresql", "db.invalid", "reports")
    assert database["OPTIONS"]["connect_timeout"] == 5
    assert values["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://redis.invalid:6379/1"}


def test_postgres_connections_run_without_jit_unless_asked(production_env):
    database = load_settings(production_env, "DATABASES")["DATABASES"]["default"]
    assert database["OPTIONS"]["options"] == "-c jit=off"
    # Options of the URL's own are kept.
    url = production_env["DATABASE_URL"] + "?options=-c%20statement_timeout%3D5000"
    database = load_settings({**production_env, "DATABASE_URL": url}, "DATABASES")["DATABASES"]["default"]
    assert database["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit=off"
    database = load_settings({**production_env, "DATABASE_JIT": "true"}, "DATABASES")["DATABASES"]["default"]
    assert "options" not in database["OPTIONS"]


def test_ssl_redirect_can_be_left_to_the_proxy(production_env):
    values = load_settings(
        {**production_env, "DJANGO_SECURE_SSL_REDIRECT": "false"},
        "SECURE_SSL_REDIRECT", "SILENCED_SYSTEM_CHECKS", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE",
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    # check --deploy is told that the redirect happens in front.
    assert values["SILENCED_SYSTEM_CHECKS"] == ["security.W008"]
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000 and values["SESSION_COOKIE_SECURE"] is True


def test_smtp_comes_from_email_url(production_env):
    values = load_settings(
        {**production_env, "EMAIL_URL": "smtp+ssl://mailer%40example.com:p%40ss%3Aword@smtp.example.com/?timeout=12"},
        "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_SSL", "EMAIL_USE_TLS", "EMAIL_TIMEOUT",
    )
    assert values == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 465,
        "EMAIL_HOST_USER": "mailer@example.com",
        "EMAIL_HOST_PASSWORD": "p@ss:word",
        "EMAIL_USE_SSL": True,
        "EMAIL_USE_TLS": False,
        "EMAIL_TIMEOUT": 12,
    }


def test_starttls_smtp_on_its_port_with_the_default_timeout(production_env):
    values = load_settings(production_env, "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "EMAIL_USE_SSL",
                           "EMAIL_TIMEOUT", "EMAIL_HOST_PASSWORD")
    assert values == {"EMAIL_HOST": "smtp.example.com", "EMAIL_PORT": 587, "EMAIL_USE_TLS": True,
                      "EMAIL_USE_SSL": False, "EMAIL_TIMEOUT": 30, "EMAIL_HOST_PASSWORD": "mail-password"}


def test_a_provider_backend_may_replace_smtp(production_env):
    env = {**production_env, "EMAIL_URL": None, "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
           "ANYMAIL_POSTMARK_SERVER_TOKEN": "token", "ANYMAIL_REQUESTS_TIMEOUT": "7.5"}
    values = load_settings(env, "EMAIL_BACKEND", "ANYMAIL")
    assert values["EMAIL_BACKEND"] == "anymail.backends.postmark.EmailBackend"
    assert values["ANYMAIL"] == {"POSTMARK_SERVER_TOKEN": "token", "REQUESTS_TIMEOUT": 7.5}


REFUSAL_CASES = [
    ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY must be set"),
    ({"DJANGO_SECRET_KEY": "short-but-random-7Hn2Js9Dc4"}, "DJANGO_SECRET_KEY is 27 characters long; it must be at least 50"),
    # Django's own project template, and the keys of this repository's
    # test and local settings made long enough.
    ({"DJANGO_SECRET_KEY": "django-insecure-" + "k3j4h5g6f7d8s9a0q1w2e3r4t5y6u7i8o9p0zxcv"}, "looks like a demo, test or placeholder key"),
    ({"DJANGO_SECRET_KEY": "local-development-only-not-secret" * 2}, "looks like a demo, test or placeholder key"),
    ({"DJANGO_SECRET_KEY": "test-only-not-secret" * 3}, "looks like a demo, test or placeholder key"),
    ({"DJANGO_SECRET_KEY": "ab" * 40}, "looks like a demo, test or placeholder key"),
    ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must be off"),
    ({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS must name the host names"),
    ({"DJANGO_ALLOWED_HOSTS": "*"}, "must not contain '*'"),
    ({"SITE_URL": None}, "SITE_URL must be set"),
    ({"DATABASE_URL": None}, "DATABASE_URL must be set"),
    ({"DATABASE_URL": "sqlite:////srv/reports/db.sqlite3"}, "DATABASE_URL must point to PostgreSQL"),
    ({"DATABASE_URL": "postgress://reports@db.invalid/reports"}, "DATABASE_URL must point to PostgreSQL"),
    ({"CELERY_BROKER_URL": None}, "CELERY_BROKER_URL must be set"),
    ({"CELERY_BROKER_URL": "filesystem://"}, "CELERY_BROKER_URL must be a Redis or RabbitMQ URL"),
    ({"CACHE_URL": None}, "CACHE_URL must be set"),
    ({"CACHE_URL": "locmemcache://"}, "CACHE_URL must be a Redis URL"),
    ({"EMAIL_URL": None}, "set EMAIL_URL (SMTP"),
    ({"EMAIL_URL": "consolemail://"}, "django.core.mail.backends.console.EmailBackend sends nothing"),
    ({"EMAIL_URL": None, "EMAIL_BACKEND": "anymail.backends.test.EmailBackend"}, "sends nothing"),
]


@pytest.fixture(scope="module")
def refusal_messages():
    return refusals([{**PRODUCTION_ENV, **change} for change, _ in REFUSAL_CASES])


@pytest.mark.parametrize("case", range(len(REFUSAL_CASES)), ids=[m for _, m in REFUSAL_CASES])
def test_the_settings_refuse_to_start(refusal_messages, case):
    message = refusal_messages[case]
    assert message is not None, f"loaded although {REFUSAL_CASES[case][0]} must be refused"
    assert message.startswith("django.core.exceptions.ImproperlyConfigured: Production settings: ")
    assert REFUSAL_CASES[case][1] in message
    # Every refusal says where to read on, and how to run on a laptop instead.
    assert "docs/operations.md" in message and "DJANGO_SETTINGS_MODULE=config.settings.local" in message


def test_a_refusal_never_prints_a_secret(production_env):
    line = refusal({**production_env, "CELERY_BROKER_URL": "memory://", "DJANGO_SECRET_KEY": "x" * 49})
    assert "x" * 49 not in line
    line = refusal({**production_env, "DATABASE_URL": "mysql://reports:db-password@db.invalid/reports"})
    assert "db-password" not in line


def test_check_deploy_has_nothing_to_say(production_env):
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=clean_env(**production_env))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_with_the_proxy_redirecting(production_env):
    env = clean_env(**production_env, DJANGO_SECURE_SSL_REDIRECT="false")
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (1 silenced)" in result.stdout
