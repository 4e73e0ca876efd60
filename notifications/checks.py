"""Start-up checks of the outbox's settings (``manage.py check``, and every
process that starts Django's checks: runserver, migrate, the worker's
``check --deploy`` in CI)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


def send_timeout_seconds() -> float:
    """The longest one socket operation of a send may wait: EMAIL_TIMEOUT for
    SMTP, ANYMAIL["REQUESTS_TIMEOUT"] for a provider's API (a number, or a
    (connect, read) pair as requests takes it)."""
    if settings.EMAIL_BACKEND.startswith("anymail."):
        timeout = (getattr(settings, "ANYMAIL", None) or {}).get("REQUESTS_TIMEOUT", 30)
        if isinstance(timeout, list | tuple):
            return float(sum(timeout))
        return float(timeout)
    return float(settings.EMAIL_TIMEOUT or 0)


@register()
def check_lease_covers_one_attempt(app_configs=None, **kwargs):
    """A lease shorter than one attempt hands a row that is still being sent
    to another worker: the e-mail goes out twice. One attempt is connecting
    and waiting for the answer, each bounded by the send timeout."""
    lease = settings.NOTIFICATIONS_LEASE_SECONDS
    timeout = send_timeout_seconds()
    if timeout <= 0:
        return [
            Error(
                "The e-mail send timeout is not set, so one attempt may last forever and outlive any lease.",
                hint="Set EMAIL_TIMEOUT (SMTP) or ANYMAIL_REQUESTS_TIMEOUT (a provider's API).",
                id="notifications.E002",
            )
        ]
    if lease < 2 * timeout:
        return [
            Error(
                f"NOTIFICATIONS_LEASE_SECONDS ({lease}) cannot cover one send attempt "
                f"(twice the send timeout of {timeout:g} s).",
                hint=f"Raise NOTIFICATIONS_LEASE_SECONDS to at least {int(2 * timeout + 0.999)} "
                "or lower EMAIL_TIMEOUT / ANYMAIL_REQUESTS_TIMEOUT.",
                id="notifications.E001",
            )
        ]
    return []


@register()
def check_sweep_tolerance_is_under_the_first_backoff(app_configs=None, **kwargs):
    """The sweep takes retries due within the tolerance; were it as long as
    the first backoff, a sweep would retry at once the row it just failed."""
    from .services.failures import first_backoff

    tolerance = settings.NOTIFICATIONS_SWEEP_TOLERANCE_SECONDS
    if not 0 <= tolerance < first_backoff().total_seconds():
        return [
            Error(
                f"NOTIFICATIONS_SWEEP_TOLERANCE_SECONDS ({tolerance:g}) must be at least 0 and "
                f"less than the first retry's backoff ({first_backoff().total_seconds():g} s).",
                id="notifications.E003",
            )
        ]
    return []
