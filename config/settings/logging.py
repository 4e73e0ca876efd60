"""Settings of the log: every process writes lines to standard output, as
text or as JSON (LOG_FORMAT). Read into base.py."""

from .env import env

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
