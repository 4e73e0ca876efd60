"""Start-up checks of the webhooks' settings (``manage.py check``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_lease_covers_one_attempt(app_configs=None, **kwargs):
    """A lease shorter than one attempt hands a delivery that is still being
    sent to another worker: the receiver gets it twice. One attempt is the
    name lookup, connecting and waiting for the answer; twice the two
    timeouts leaves room for the lookup."""
    lease = settings.WEBHOOKS_LEASE_SECONDS
    attempt = settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS + settings.WEBHOOKS_READ_TIMEOUT_SECONDS
    if attempt <= 0 or lease < 2 * attempt:
        return [
            Error(
                f"WEBHOOKS_LEASE_SECONDS ({lease}) cannot cover one attempt (twice the connect and read "
                f"timeouts, {attempt:g} s).",
                hint=f"Raise WEBHOOKS_LEASE_SECONDS to at least {int(2 * attempt + 0.999)} or lower "
                "WEBHOOKS_CONNECT_TIMEOUT_SECONDS / WEBHOOKS_READ_TIMEOUT_SECONDS (both above 0).",
                id="webhooks.E001",
            )
        ]
    return []


@register(deploy=True)
def check_private_addresses_are_refused(app_configs=None, **kwargs):
    """Allowing private addresses lets anyone who may register an endpoint
    make the worker POST into our own network (SSRF)."""
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return [
            Warning(
                "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES is on: webhooks may be sent to private, loopback and "
                "link-local addresses, including the cloud metadata service.",
                hint="Leave it off outside tests with a local receiver.",
                id="webhooks.W001",
            )
        ]
    return []
