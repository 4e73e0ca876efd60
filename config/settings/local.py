"""Settings for `make run` on a developer's machine."""


from .base import *  # noqa: F403
from .base import ANYMAIL, DRIVER_REPORTS, LOGGING, SECRET_KEY, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"

# DEMO_SPEED: how many times faster than real life the demo runs. The
# health checks' durations are divided by it (with the default 5: more than
# 2 minutes disconnected or in error, 3 failed charges in 12 minutes, 3
# minutes of weak signal), and `simulate_fleet` shortens its own intervals
# by it, so every kind of system report appears within five minutes of
# `make run` and resolves some minutes later. DEMO_SPEED=1 runs as in
# production. Only these development settings read it.
DEMO_SPEED = env.float("DEMO_SPEED", default=5)
if DEMO_SPEED <= 0:
    raise ValueError("DEMO_SPEED must be positive.")


def _demo(check: str, key: str) -> float:
    return HEALTH_CHECKS[check][key] / DEMO_SPEED  # noqa: F405


HEALTH_CHECKS = {  # noqa: F405
    **HEALTH_CHECKS,  # noqa: F405
    "disconnected": {**HEALTH_CHECKS["disconnected"], "minutes": _demo("disconnected", "minutes")},  # noqa: F405
    "in_error": {**HEALTH_CHECKS["in_error"], "minutes": _demo("in_error", "minutes")},  # noqa: F405
    "failed_charges": {**HEALTH_CHECKS["failed_charges"],  # noqa: F405
                       "window_minutes": _demo("failed_charges", "window_minutes")},
    "bad_wifi": {**HEALTH_CHECKS["bad_wifi"],  # noqa: F405
                 "window_minutes": env.float("HEALTH_SIGNAL_WINDOW_MINUTES", default=_demo("bad_wifi", "window_minutes"))},
    "bad_cell_signal": {**HEALTH_CHECKS["bad_cell_signal"],  # noqa: F405
                        "window_minutes": env.float("HEALTH_SIGNAL_WINDOW_MINUTES",
                                                    default=_demo("bad_cell_signal", "window_minutes"))},
}

# E-mails: one line each on the worker's console (core/mail.py); read them in
# the outbox at /admin/notifications/notification/ (the inbox). EMAIL_URL or
# EMAIL_BACKEND sends them for real instead.
if not (env.str("EMAIL_URL", default="") or env.str("EMAIL_BACKEND", default="")):
    EMAIL_BACKEND = "core.mail.OneLineConsoleBackend"

# The demo's drivers (`simulate_drivers`) write to support through Postmark's
# inbound webhook, which needs a secret; this one is for this machine only.
ANYMAIL = {**ANYMAIL, "WEBHOOK_SECRET": ANYMAIL.get("WEBHOOK_SECRET") or "demo:demo-inbound-2026"}
# They all file from 127.0.0.1: the per-address limit would stop them.
DRIVER_REPORTS = {**DRIVER_REPORTS,
                  "rate_per_address": env.int("DRIVER_REPORT_RATE_PER_ADDRESS", default=1000),
                  "rate_per_charge_point": env.int("DRIVER_REPORT_RATE_PER_CHARGE_POINT", default=1000)}
# The demo chargers' every OCPP frame is not news; their problems are. Nor is
# every task received and done, nor beat's every due task: `make run`'s
# console keeps the welcome, the e-mails (one line each), the simulators'
# episodes and anything that goes wrong.
LOGGING = {**LOGGING, "loggers": {**LOGGING.get("loggers", {}), "ocpp": {"level": "WARNING"},
                                  **{name: {"level": "WARNING"} for name in (
                                      "celery.app.trace", "celery.worker.strategy", "celery.beat")}}}
# The demo drivers' app key for `simulate_drivers` (else var/demo-platform-key,
# which seed_demo writes).
DEMO_PLATFORM_KEY = env.str("DEMO_PLATFORM_KEY", default="")
