"""Login throttling on both back-offices, by django-axes (settings in
config/settings/security.py, "Login throttling"): after too many wrong passwords
for one account from one address, that account cannot log in from that
address until the cool-off ends or support unlocks it (/admin/ -> Access
attempts, or ``manage.py axes_reset_username <e-mail>``)."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.db import transaction
from django.shortcuts import render

from accounts.audit import audit_record
from accounts.models import AuditAction
from accounts.permissions import is_support
from core.errors import NotAllowed

LOCKOUT_TEMPLATE = "admin/login_locked_out.html"


class LoginThrottleBackend(AxesStandaloneBackend):
    """axes' gate in front of the model backend, for web logins.

    ``authenticate()`` without a request (the shell, a management command, the
    test client's ``login()``) is no web login and has no address to count
    against, so it is let through to the next backend instead of raising.
    Every login form of the two sites passes the request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_username(request, credentials=None) -> str | None:
    """The account a login is for, as axes counts it: the e-mail from the
    login form's ``username`` field, in lower case (accounts are stored in
    lower case; a changed case must not start a fresh count)."""
    source = credentials if credentials else getattr(request, "POST", {})
    value = source.get("username") if source else None
    return value.strip().lower() if isinstance(value, str) else None


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets (HTTP 429), in the admin's style."""
    from accounts.admin_sites import site_for_request

    site = site_for_request(request)
    cool_off = get_cool_off(request)
    context = {
        # The theme's colours and the site's title, as on its login page.
        **(site.each_context(request) if site is not None else {}),
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
    }
    return render(request, LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)


@transaction.atomic
def login_lockouts_release(*, attempts, by) -> list[str]:
    """Support unlocks accounts: forget their failed attempts, so each can log
    in from that address again at once. One audit row per attempt released.
    Returns who was unlocked (e-mail or address)."""
    if not is_support(by):
        raise NotAllowed("Only support staff may unlock accounts.")
    released = []
    for attempt in attempts:
        who = attempt.username or attempt.ip_address or "?"
        audit_record(by=by, action=AuditAction.DELETE, obj=attempt, team=None,
                     note=f"Unlocked {who} at {attempt.ip_address or 'any address'}.")
        attempt.delete()
        released.append(who)
    return sorted(set(released))
