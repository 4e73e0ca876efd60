"""The unsubscribe link in drivers' status e-mails (notifications/unsubscribe.py)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .unsubscribe import driver_unsubscribe, unsubscribe_token_valid


# A mailbox provider's one-click POST carries no CSRF token: the signed link
# is the authorisation, and unsubscribing is the only thing it can do.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    if request.method == "POST":
        if not driver_unsubscribe(token=token):
            return render(request, "notifications/unsubscribe.html", {"state": "invalid"}, status=404)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            # RFC 8058: the provider wants a plain success, no page.
            return HttpResponse(_("Unsubscribed."), content_type="text/plain; charset=utf-8")
        return render(request, "notifications/unsubscribe.html", {"state": "done"})
    if unsubscribe_token_valid(token) is None:
        return render(request, "notifications/unsubscribe.html", {"state": "invalid"}, status=404)
    return render(request, "notifications/unsubscribe.html", {"state": "ask"})
