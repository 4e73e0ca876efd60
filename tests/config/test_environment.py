"""config/environment.py: manage.py, the WSGI and ASGI applications and the
Celery app agree on the settings module, and without one they fail closed."""

import pytest

from tests.config.conftest import clean_env, run_python

ENTRY_POINTS = {
    "manage.py": ["manage.py", "check"],
    "config.wsgi": ["-c", "import config.wsgi"],
    "config.asgi": ["-c", "import config.asgi"],
    "config.celery": ["-c", "from config.celery import app; app.loader.import_default_modules()"],
}


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_without_a_settings_module_every_entry_point_uses_production(entry_point):
    result = run_python(ENTRY_POINTS[entry_point], env=clean_env())
    assert result.returncode != 0
    assert "ImproperlyConfigured: Production settings: DJANGO_SECRET_KEY must be set" in result.stderr


def test_a_checkouts_env_file_chooses_the_development_settings(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_SETTINGS_MODULE=config.settings.local\n")
    code = "import config.wsgi; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"
    result = run_python(code, env=clean_env(DJANGO_ENV_FILE=str(env_file), VAR_DIR=str(tmp_path / "var")))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.settings.local", "True"]


def test_the_real_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_SETTINGS_MODULE=config.settings.local\n")
    env = clean_env(DJANGO_ENV_FILE=str(env_file), DJANGO_SETTINGS_MODULE="config.settings.test",
                    VAR_DIR=str(tmp_path / "var"))
    result = run_python("import config.asgi; from django.conf import settings; print(settings.SETTINGS_MODULE)", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "config.settings.test"
