"""Log records for people and for log collectors (settings.LOGGING).

Written with the standard library only: a JSON line is `json.dumps` of a
handful of fields, which does not earn a dependency.
"""

import json
import logging
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from
# `extra={...}` and is written out as a field of its own.
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "task"}


class CeleryTaskFilter(logging.Filter):
    """Adds the running Celery task's name and id to each record, so a line
    logged inside a task says which run it belongs to ("" outside tasks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from celery import current_task

        task = current_task
        request = getattr(task, "request", None) if task else None
        task_id = getattr(request, "id", None)
        if task_id:
            record.task_name, record.task_id = task.name, task_id
            record.task = f" [{task.name}({task_id})]"
        else:
            record.task_name = record.task_id = None
            record.task = ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger,
    message, the task fields when there is a task, the exception's
    traceback when there is one, and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if getattr(record, "task_id", None):
            entry["task_name"] = record.task_name
            entry["task_id"] = record.task_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and key not in entry and key not in ("task_name", "task_id"):
                entry[key] = value
        return json.dumps(entry, default=str, ensure_ascii=False)
