"""The one place that decides which settings module a process uses:
manage.py, config/wsgi.py, config/asgi.py and config/celery.py all call
`use_default_settings()`.

The default is production, so a server started without
DJANGO_SETTINGS_MODULE fails closed (production settings refuse to start
without their variables) instead of running with debug pages and a demo key.
A developer's checkout has a `.env` file (written by `make install`, which
`make run` and `make test` run first) that says
DJANGO_SETTINGS_MODULE=config.settings.local; a variable set in the real
environment always wins over the file. DJANGO_ENV_FILE names another file.
"""

import os
from pathlib import Path

DEFAULT_SETTINGS_MODULE = "config.settings.production"
DOT_ENV = Path(__file__).resolve().parent.parent / ".env"


def use_default_settings() -> None:
    import environ

    env_file = Path(environ.Env().str("DJANGO_ENV_FILE", default=str(DOT_ENV)))
    if env_file.is_file():
        environ.Env.read_env(env_file)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS_MODULE)
