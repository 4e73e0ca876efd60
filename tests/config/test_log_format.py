"""config/log_format.py through settings.LOGGING: timestamps, logger names,
the task a line was logged in, and JSON lines on request (LOG_FORMAT)."""

import json
import logging
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


class Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_a_line_logged_in_a_task_names_the_task():
    from config.log_format import CeleryTaskFilter, JsonFormatter

    # A handler of its own on the task's logger: other tests (Celery's test
    # worker) reconfigure the root logger's handlers and levels.
    logger, handler = logging.getLogger("tests.tasks"), Records()
    handler.addFilter(CeleryTaskFilter())
    logger.addHandler(handler)
    saved = logger.level, logger.disabled, app.conf.task_always_eager
    logger.setLevel(logging.INFO)
    logger.disabled = False
    app.conf.task_always_eager = True
    try:
        result = log_something.delay()
    finally:
        logger.removeHandler(handler)
        logger.level, logger.disabled, app.conf.task_always_eager = saved
    (record,) = handler.records
    assert record.task_name == "tests.log_something" and record.task_id == result.id
    assert record.task == f" [tests.log_something({result.id})]"
    line = json.loads(JsonFormatter().format(record))
    assert (line["task_name"], line["task_id"]) == ("tests.log_something", result.id)
    assert line["message"] == "inside" and line["logger"] == "tests.tasks"
