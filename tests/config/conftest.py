import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent

# A complete, valid production environment. No service is contacted while
# the settings load, so the hosts need not exist.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "q3Vb8Yx1Lr0tZp5Kw7Hn2Js9Dc4Fg6Mv-Xe1Ua8Ty3Ri0Oq5Pl7Nk2Wm4Bs9Cz",
    "DJANGO_ALLOWED_HOSTS": "reports.example.com",
    "SITE_URL": "https://reports.example.com",
    "DATABASE_URL": "postgres://reports:db-password@db.invalid:5432/reports",
    "CELERY_BROKER_URL": "redis://:broker-password@redis.invalid:6379/0",
    "CACHE_URL": "redis://redis.invalid:6379/1",
    "EMAIL_URL": "smtp+tls://mailer:mail-password@smtp.example.com:587",
}


def clean_env(**overrides):
    """The process environment for a child: the machine's basics, none of
    the settings this test process runs with, and never the checkout's .env."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env["DJANGO_ENV_FILE"] = "/nonexistent/.env"
    env["PYTHONPATH"] = str(REPO)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_python(code_or_args, *, env, timeout=60):
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def production_env():
    return dict(PRODUCTION_ENV)
