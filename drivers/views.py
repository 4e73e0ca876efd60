"""The public report page behind the QR sticker: no login, built for a
phone, works without JavaScript. Views stay thin: the form checks input,
``drivers.services`` files the report."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.http import HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from reporting.catalogue import DRIVER_REASON_LABELS
from reporting.models import ReportState
from reporting.reporters import Driver, Upload, report_reporter_by_status_token
from reporting.reviews import review_submit

from .forms import DriverReportForm, DriverReviewForm
from .images import PhotoRefused, photo_clean
from .ratelimit import filing_allowed, review_allowed
from .selectors import charge_point_by_public_code
from .services import driver_report_submit

BROWSER_COOKIE = "cpr_driver"
BROWSER_COOKIE_AGE = 365 * 24 * 3600


def _language_switch(request):
    """``?lang=da``: remember the choice (Django's language cookie) and come
    back to the page without the parameter. A link, so it needs no script."""
    lang = request.GET.get("lang")
    if lang not in dict(settings.LANGUAGES):
        return None
    response = HttpResponseRedirect(request.path)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, lang, max_age=BROWSER_COOKIE_AGE, samesite="Lax")
    return response


def _refusal(request, *, status: int, message: str, charge_point=None):
    return render(
        request, "drivers/refused.html", {"message": message, "charge_point": charge_point}, status=status
    )


def _too_large(request) -> bool:
    """Judged by the declared length alone, before anything reads the body."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > settings.DRIVER_REPORTS["max_request_bytes"]


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _status_url(token: str) -> str:
    return settings.PUBLIC_REPORT_BASE_URL + reverse("drivers:status", args=[token])


@dataclass(frozen=True)
class _Door:
    """What tells the report form's page from the review form's at the door:
    what it says when it refuses, and which counters limit it."""

    too_large: str
    too_old: str
    not_sent: str
    too_many: str
    allowed: Callable[..., bool]


_REPORT = _Door(
    too_large=gettext_lazy("The report is too large. A photo may be at most 5 MB."),
    too_old=gettext_lazy("Your report could not be sent because the page was too old. Please try again."),
    not_sent=gettext_lazy("Your report could not be sent."),
    too_many=gettext_lazy("Too many reports were sent from here in a short time. Please try again later."),
    allowed=filing_allowed,
)
_REVIEW = _Door(
    too_large=gettext_lazy("Your review is too large."),
    too_old=gettext_lazy("Your review could not be sent because the page was too old. Please try again."),
    not_sent=gettext_lazy("Your review could not be sent."),
    too_many=gettext_lazy("Too many reviews were sent from here in a short time. Please try again later."),
    allowed=review_allowed,
)


def _driver_form_page(door: _Door):
    """The steps a driver form's page starts with, in this order: the
    language switch; for a POST, the size check; the charge point by the
    code on its sticker; for a POST, the CSRF check. The view then gets the
    charge point instead of the code.

    CSRF is checked here, after the size check: the middleware would read
    the body (to find the token) before the view could refuse an oversized
    one."""

    def decorate(view):
        @csrf_exempt
        @require_http_methods(["GET", "HEAD", "POST"])
        @wraps(view)
        def page(request, code: str):
            switch = _language_switch(request)
            if switch is not None:
                return switch
            if request.method == "POST" and _too_large(request):
                return _refusal(request, status=413, message=door.too_large)
            charge_point = charge_point_by_public_code(code=code)
            if charge_point is None:
                return _refusal(
                    request, status=404, message=_("We do not know this charge point. Check the code on the sticker.")
                )
            if request.method == "POST":
                csrf_refusal = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
                if csrf_refusal is not None:
                    return _refusal(request, status=403, charge_point=charge_point, message=door.too_old)
            return view(request, charge_point)

        return page

    return decorate


def _submission_refusal(request, charge_point, form, door: _Door):
    """A filled honeypot, then the rate limits (counted before the form is
    judged): the refusal, or None to go on."""
    if form.is_bot:
        return _refusal(request, status=400, charge_point=charge_point, message=door.not_sent)
    if not door.allowed(address=_client_address(request), charge_point_id=charge_point.pk, request=request):
        return _refusal(request, status=429, charge_point=charge_point, message=door.too_many)
    return None


def _driver(request, data) -> Driver:
    """The driver as a form's contact fields and the browser describe them."""
    return Driver(
        name=data["name"].strip(),
        email=data["email"].strip(),
        phone=data["phone"],
        language=translation.get_language() or settings.LANGUAGE_CODE,
        browser_token=request.COOKIES.get(BROWSER_COOKIE, "")[:100],
        channel="web",
    )


@_driver_form_page(_REPORT)
def report_page(request, charge_point):
    if request.method == "POST":
        return _submit(request, charge_point)
    form = DriverReportForm(country=charge_point.site.country)
    return _form_page(request, charge_point, form, status=200)


def _form_page(request, charge_point, form, *, status: int):
    response = render(request, "drivers/report_form.html", {"charge_point": charge_point, "form": form}, status=status)
    if not request.COOKIES.get(BROWSER_COOKIE):
        response.set_cookie(
            BROWSER_COOKIE, secrets.token_urlsafe(24), max_age=BROWSER_COOKIE_AGE, httponly=True, samesite="Lax"
        )
    return response


def _submit(request, charge_point):
    form = DriverReportForm(request.POST, request.FILES, country=charge_point.site.country)
    refusal = _submission_refusal(request, charge_point, form, _REPORT)
    if refusal is not None:
        return refusal
    if not form.is_valid():
        return _form_page(request, charge_point, form, status=400)
    photo = None
    if form.cleaned_data.get("photo"):
        try:
            clean = photo_clean(form.cleaned_data["photo"])
        except PhotoRefused as refusal:
            form.add_error("photo", str(refusal))
            return _form_page(request, charge_point, form, status=400)
        photo = Upload(content=clean.content, filename=clean.filename, content_type=clean.content_type)
    data = form.cleaned_data
    filing = driver_report_submit(
        charge_point=charge_point,
        reason=data["reason"],
        description=data["description"],
        driver=_driver(request, data),
        photo=photo,
        status_url=_status_url,
    )
    return HttpResponseRedirect(reverse("drivers:status", args=[filing.status_token]) + "?filed=1", status=303)


@_driver_form_page(_REVIEW)
def review_page(request, charge_point):
    """Rate your charge: a second form beside the report form, linked from it."""
    if request.method != "POST":
        context = {"charge_point": charge_point, "form": DriverReviewForm(), "sent": request.GET.get("sent") == "1"}
        return render(request, "drivers/review_form.html", context)
    form = DriverReviewForm(request.POST)
    refusal = _submission_refusal(request, charge_point, form, _REVIEW)
    if refusal is not None:
        return refusal
    if not form.is_valid():
        return render(request, "drivers/review_form.html", {"charge_point": charge_point, "form": form}, status=400)
    data = form.cleaned_data
    review_submit(
        charge_point=charge_point, rating=data["rating"], comment=data["comment"], driver=_driver(request, data)
    )
    return HttpResponseRedirect(reverse("drivers:review", args=[charge_point.public_code]) + "?sent=1", status=303)


@require_GET
def status_page(request, token: str):
    switch = _language_switch(request)
    if switch is not None:
        return switch
    reporter = report_reporter_by_status_token(token=token)
    if reporter is None:
        return _refusal(request, status=404, message=_("We cannot find this report. Check the link."))
    report = reporter.report
    state = {
        ReportState.OPEN: _("Received: waiting for the people who look after this charge point."),
        ReportState.ASSIGNED: _("Being handled."),
        ReportState.RESOLVED: _("Resolved."),
    }[report.state]
    response = render(
        request,
        "drivers/status.html",
        {
            "report": report,
            "charge_point": report.charge_point,
            "reason": DRIVER_REASON_LABELS.get(report.reason, report.get_reason_display()),
            "state": state,
            "filed": request.GET.get("filed") == "1",
            "status_url": _status_url(token),
        },
    )
    # The link is the key: keep it out of referrers and shared caches.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def privacy_notice(request):
    """What we keep about a driver, why, for how long, and how to ask for a
    copy or erasure (GDPR articles 13 and 15-17), in the driver's language."""
    switch = _language_switch(request)
    if switch is not None:
        return switch
    context = {
        "controller_name": settings.PRIVACY_CONTROLLER_NAME,
        "controller_email": settings.PRIVACY_CONTROLLER_EMAIL,
        "driver_days": settings.PRIVACY_DRIVER_DATA_DAYS,
        "support_days": settings.PRIVACY_SUPPORT_EMAIL_DAYS,
    }
    return render(request, "drivers/privacy.html", context)
