"""config/log_format.py through settings.LOGGING: timestamps, logger names,
the task a line was logged in, and JSON lines on request (LOG_FORMAT)."""

import json
import re

from celery import shared_task

from config.celery import app
from tests.config.conftest import clean_env, run_python

LOG_A_LINE = """
import logging, django
django.setup()
logging.getLogger("reporting.health").warning("swept %d charge points", 42, extra={"chunk": 3})
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("notifications").exception("send failed")
"""


def logged(**env):
    result = run_python(LOG_A_LINE, env=clean_env(DJANGO_SETTINGS_MODULE="config.settings.test", **env))
    assert result.returncode == 0, result.stderr
    return result.stderr.strip().splitlines()


def test_text_lines_carry_time_level_and_logger():
    first = logged()[0]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} WARNING reporting\.health: swept 42 charge points", first
    ), first


def test_json_lines_when_asked():
    lines = logged(LOG_FORMAT="json")
    assert len(lines) == 2, lines  # one line each, the traceback inside the second
    warning, error = (json.loads(line) for line in lines)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", warning["time"])
    assert (warning["level"], warning["logger"], warning["message"], warning["chunk"]) == (
        "WARNING", "reporting.health", "swept 42 charge points", 3)
    assert "task_id" not in warning
    assert error["level"] == "ERROR" and "ZeroDivisionError" in error["exception"]


@shared_task(name="tests.log_something")
def log_something():
    import logging

    logging.getLogger("tests.tasks").warning("inside")


def test_a_line_logged_in_a_task_names_the_task(caplog):
    from config.log_format import CeleryTaskFilter, JsonFormatter

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    caplog.handler.addFilter(CeleryTaskFilter())
    try:
        result = log_something.delay()
    finally:
        app.conf.task_always_eager = previous
    (record,) = [r for r in caplog.records if r.name == "tests.tasks"]
    assert record.task_name == "tests.log_something" and record.task_id == result.id
    assert record.task == f" [tests.log_something({result.id})]"
    line = json.loads(JsonFormatter().format(record))
    assert (line["task_name"], line["task_id"]) == ("tests.log_something", result.id)
