"""The providers' delivery-tracking webhooks, at anymail's usual addresses
(``/anymail/<provider>/tracking/``, e.g. ``/anymail/postmark/tracking/``), so
each provider's set-up guide in anymail's docs applies as written.

anymail checks the shared secret (``ANYMAIL["WEBHOOK_SECRET"]``, HTTP basic
auth "user:password") and answers 400 to a wrong one, but with no secret
configured it only warns and accepts anyone. These routes fail closed
instead: without a secret they answer 403, so a forgotten setting cannot let
strangers mark e-mails bounced. Besides the tracking routes, one inbound
route is mounted: Postmark's (``/anymail/postmark/inbound/``), which brings
drivers' e-mails to the support address (notifications.inbound), behind the
same secret.
"""

from functools import wraps

from anymail.urls import urlpatterns as anymail_urlpatterns
from anymail.utils import get_anymail_setting
from django.http import HttpResponseForbidden
from django.urls import path

app_name = "anymail"
INBOUND_ROUTES = {"postmark_inbound_webhook"}


def _require_webhook_secret(view):
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not get_anymail_setting("webhook_secret", default=None):
            return HttpResponseForbidden(
                "E-mail webhooks are disabled: set ANYMAIL_WEBHOOK_SECRET.", content_type="text/plain"
            )
        return view(request, *args, **kwargs)

    return guarded


urlpatterns = [
    path(str(pattern.pattern), _require_webhook_secret(pattern.callback), name=pattern.name)
    for pattern in anymail_urlpatterns
    if pattern.name and (pattern.name.endswith("_tracking_webhook") or pattern.name in INBOUND_ROUTES)
]
