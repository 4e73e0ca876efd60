"""Settings of Celery (config/celery.py reads the CELERY_* names): the
broker, the queues and routes, time limits, at-least-once delivery, and
how a request publishes a task on commit. Read into base.py."""

from pathlib import Path

from kombu import Queue

from .env import VAR_DIR, env

# --- Celery -----------------------------------------------------------------
# Without CELERY_BROKER_URL the broker is kombu's filesystem transport: it
# needs no server, so `make run` works on a bare machine. Production sets a
# Redis or RabbitMQ URL.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery-queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "control_folder": str(VAR_DIR / "celery-control"),
        "store_processed": False,
    }
    # The transport fails on start when its folders are missing; the web
    # server, the worker and beat all read these settings, so make them here.
    for _folder in ("data_folder_in", "processed_folder", "control_folder"):
        Path(CELERY_BROKER_TRANSPORT_OPTIONS[_folder]).mkdir(parents=True, exist_ok=True)
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task taken but not acknowledged goes back to the queue after this
    # many seconds: it must be longer than the longest task may run (the
    # hard time limits below, at most 300 s), or a running task would be
    # handed to a second worker as well (tests/config/test_celery.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = True
# At least once (docs/delivery.md): a task is acknowledged after it ran, a
# task whose worker process died (killed, out of memory) goes back to the
# queue, and a worker reserves one task at a time, so a dead worker holds
# nothing else back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Queues: the health sweep and the e-mail outbox each have their own, so a
# mail backlog never delays a sweep. A worker started without -Q consumes
# every queue below (`make run`); production may run one worker per queue
# (docs/operations.md).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue("celery"), Queue("health"), Queue("email"), Queue("webhooks")]
CELERY_TASK_ROUTES = {
    "reporting.health_sweep": {"queue": "health"},
    "reporting.health_reconcile": {"queue": "health"},
    "gateway.sweep": {"queue": "health"},
    "reporting.response_targets_check": {"queue": "health"},
    "notifications.send": {"queue": "email"},
    "notifications.send_due": {"queue": "email"},
    "webhooks.deliver": {"queue": "webhooks"},
    "webhooks.sweep": {"queue": "webhooks"},
    "webhooks.send_notices": {"queue": "webhooks"},
}
# Time limits (seconds) on every task: at the soft limit the task gets
# SoftTimeLimitExceeded (its transaction rolls back), at the hard limit the
# worker process is killed and replaced. Enforced by the prefork pool.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
# An incremental health pass with nothing changed takes milliseconds, and
# the hourly reconciliation (every check over the fleet) about a second per
# 100,000 charge points in trouble (docs/benchmarks.md); at the measured
# 0.2 s per 1,000 reports filed, a pass after 100,000 charge points went down
# at once takes about 20 s. The limits leave room for a slow database. The
# e-mail tasks send row by row, each row leased from its own claim for
# NOTIFICATIONS_LEASE_SECONDS (one attempt, see notifications/checks.py), so
# their limits only bound a sweep's batches.
CELERY_TASK_ANNOTATIONS = {
    name: {"soft_time_limit": soft, "time_limit": hard}
    for names, soft, hard in [
        (("reporting.health_sweep", "reporting.health_reconcile"),
         env.int("HEALTH_SWEEP_SOFT_TIME_LIMIT", default=240), env.int("HEALTH_SWEEP_TIME_LIMIT", default=300)),
        (("notifications.send", "notifications.send_due"),
         env.int("EMAIL_TASK_SOFT_TIME_LIMIT", default=240), env.int("EMAIL_TASK_TIME_LIMIT", default=300)),
        (("webhooks.deliver", "webhooks.sweep", "webhooks.send_notices"),
         env.int("WEBHOOKS_TASK_SOFT_TIME_LIMIT", default=120), env.int("WEBHOOKS_TASK_TIME_LIMIT", default=180)),
    ]
    for name in names
}
# The worker logs through LOGGING below (timestamps, logger names, JSON on
# request) instead of replacing the root logger with its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# What a task prints (the console e-mail backend of development) is logged
# as information, not as a warning.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
# Keep retrying while the broker is not up yet when a worker starts (and
# say so explicitly: Celery 6 stops reading broker_connection_retry for it).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Connect and socket timeout (seconds) of a publish on commit (core.tasks.publish):
# the work is already in an outbox its sweep catches up, so a request gives
# up on a broker that refuses or hangs rather than wait for it.
TASK_PUBLISH_TIMEOUT_SECONDS = env.float("TASK_PUBLISH_TIMEOUT_SECONDS", default=0.05)
# After a failed publish a process leaves the broker alone for this many
# seconds (the outboxes' sweeps pick the work up): under a broker fault one
# request per pause pays the timeout above, the others nothing.
TASK_PUBLISH_PAUSE_SECONDS = env.float("TASK_PUBLISH_PAUSE_SECONDS", default=5)
