"""Settings of the Celery workers that tests/notifications/test_fault_runs.py
starts: the test settings, sending through Django's SMTP backend to the
test's SMTP server (EMAIL_URL, EMAIL_TIMEOUT and the outbox's timings come
from the environment the test gives the worker)."""

from config.settings.test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
