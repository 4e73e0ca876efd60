"""The delivery-tracking webhook of the provider e-mail is sent through, at
anymail's usual address (``/anymail/<provider>/tracking/``, e.g.
``/anymail/postmark/tracking/``), so the provider's set-up guide in anymail's
docs applies as written.

Only the configured provider's route is mounted (``EMAIL_TRACKING_PROVIDER``,
by default the provider of ``EMAIL_BACKEND``): the other providers' views
need settings of their own and would fail on every request. This product
receives no inbound mail, so no inbound routes either.

anymail checks the shared secret (``ANYMAIL["WEBHOOK_SECRET"]``, HTTP basic
auth "user:password") and answers 400 to a wrong one, but with no secret
configured it only warns and accepts anyone. This route fails closed
instead: without a secret it answers 403, so a forgotten setting cannot let
strangers mark e-mails bounced. A payload the provider's parser cannot read
(with the right secret) is a 400, not a 500.
Besides the tracking route, one inbound route is mounted: Postmark's
(``/anymail/postmark/inbound/``), which brings drivers' e-mails to the
support address (notifications.inbound), behind the same secret.
"""

from __future__ import annotations

import logging

from anymail.urls import urlpatterns as anymail_urlpatterns
from anymail.utils import get_anymail_setting
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from core.ratelimit import rate_limit_hit, rate_limit_remember
from core.rest.errors import error_body

logger = logging.getLogger(__name__)

app_name = "anymail"
INBOUND_ROUTES = {"postmark_inbound_webhook"}

# What a provider's parser raises on a payload of the wrong shape (a list
# for an object, a number for a string, a missing key, bad JSON or JSON
# nested past the stack).
MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError)


class MalformedPayload(Exception):
    pass


def _guarded(view_class):
    """The provider's view, failing closed without a secret and answering
    400 to a payload its parser cannot read."""

    class Guarded(view_class):
        # Overriding dispatch drops the csrf_exempt mark anymail's view
        # carries there (as_view copies it from dispatch): the routes below
        # are wrapped in csrf_exempt again, or every provider POST is a 403.

        # anymail warns, per request, when there is no secret; this view
        # refuses every request then, so the warning says nothing.
        warn_if_no_basic_auth = False

        def dispatch(self, request, *args, **kwargs):
            # Counted before the secret is checked, so guessing it is slow too.
            decision = rate_limit_hit(
                f"webhooks:{request.META.get('REMOTE_ADDR', '') or 'unknown'}",
                limit=settings.EMAIL_WEBHOOK_RATE_PER_MINUTE, window=60,
            )
            rate_limit_remember(request, decision)
            if not decision.allowed:
                body = error_body(429, "throttled", f"Too many webhook calls; try again in {decision.reset} s.")
                return JsonResponse(body, status=429)
            if not get_anymail_setting("webhook_secret", default=None):
                body = error_body(403, "webhooks_disabled", "Delivery webhooks are disabled: set ANYMAIL_WEBHOOK_SECRET.")
                return JsonResponse(body, status=403)
            try:
                return super().dispatch(request, *args, **kwargs)
            except MalformedPayload as malformed:
                logger.warning("Malformed %s tracking payload refused: %r", self.esp_name, malformed.__cause__)
                body = error_body(400, "invalid", f"The {self.esp_name} tracking payload is malformed.")
                return JsonResponse(body, status=400)

        def parse_events(self, request):
            # Only the provider's parsing is guarded: an error in recording
            # the events is a bug, and must stay a 500 that is logged.
            try:
                return super().parse_events(request)
            except MALFORMED as error:
                raise MalformedPayload from error

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{view_class.__name__}"
    return Guarded


def tracking_urlpatterns(provider: str) -> list:
    """The tracking route of one provider (anymail's name for it, e.g.
    ``postmark``, ``amazon_ses``); none for ``""``."""
    if not provider:
        return []
    routes = {
        pattern.name.removesuffix("_tracking_webhook"): pattern
        for pattern in anymail_urlpatterns
        if pattern.name and pattern.name.endswith("_tracking_webhook")
    }
    if provider not in routes:
        raise ImproperlyConfigured(
            f"EMAIL_TRACKING_PROVIDER={provider!r} has no tracking webhook; one of: {', '.join(sorted(routes))}."
        )
    pattern = routes[provider]
    view = csrf_exempt(_guarded(pattern.callback.view_class).as_view(**pattern.callback.view_initkwargs))
    return [path(str(pattern.pattern), view, name=pattern.name)]


# Drivers' e-mails to the support address (notifications/inbound.py).
INBOUND_ROUTES = {"postmark_inbound_webhook"}


def inbound_urlpatterns() -> list:
    return [
        path(str(pattern.pattern),
             csrf_exempt(_guarded(pattern.callback.view_class).as_view(**pattern.callback.view_initkwargs)),
             name=pattern.name)
        for pattern in anymail_urlpatterns
        if pattern.name in INBOUND_ROUTES
    ]


urlpatterns = tracking_urlpatterns(settings.EMAIL_TRACKING_PROVIDER) + inbound_urlpatterns()
