"""The public report page behind the QR sticker: no login, built for a
phone, works without JavaScript. Views stay thin: the form checks input,
``drivers.services`` files the report."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.http import HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
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


# CSRF is checked below, after the size check: the middleware would read the
# body (to find the token) before the view could refuse an oversized one.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def report_page(request, code: str):
    switch = _language_switch(request)
    if switch is not None:
        return switch
    if request.method == "POST" and _too_large(request):
        return _refusal(request, status=413, message=_("The report is too large. A photo may be at most 5 MB."))
    charge_point = charge_point_by_public_code(code=code)
    if charge_point is None:
        return _refusal(request, status=404, message=_("We do not know this charge point. Check the code on the sticker."))
    if request.method == "POST":
        csrf_refusal = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if csrf_refusal is not None:
            return _refusal(
                request, status=403, charge_point=charge_point,
                message=_("Your report could not be sent because the page was too old. Please try again."),
            )
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
    if form.is_bot:
        return _refusal(request, status=400, charge_point=charge_point, message=_("Your report could not be sent."))
    if not filing_allowed(address=_client_address(request), charge_point_id=charge_point.pk, request=request):
        return _refusal(
            request, status=429, charge_point=charge_point,
            message=_("Too many reports were sent from here in a short time. Please try again later."),
        )
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
    driver = Driver(
        name=data["name"].strip(),
        email=data["email"].strip(),
        phone=data["phone"],
        language=translation.get_language() or settings.LANGUAGE_CODE,
        browser_token=request.COOKIES.get(BROWSER_COOKIE, "")[:100],
        channel="web",
    )
    filing = driver_report_submit(
        charge_point=charge_point,
        reason=data["reason"],
        description=data["description"],
        driver=driver,
        photo=photo,
        status_url=_status_url,
    )
    return HttpResponseRedirect(reverse("drivers:status", args=[filing.status_token]) + "?filed=1", status=303)


# As the report page: CSRF checked after the size check.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def review_page(request, code: str):
    """Rate your charge: a second form beside the report form, linked from it."""
    switch = _language_switch(request)
    if switch is not None:
        return switch
    if request.method == "POST" and _too_large(request):
        return _refusal(request, status=413, message=_("Your review is too large."))
    charge_point = charge_point_by_public_code(code=code)
    if charge_point is None:
        return _refusal(request, status=404, message=_("We do not know this charge point. Check the code on the sticker."))
    if request.method != "POST":
        context = {"charge_point": charge_point, "form": DriverReviewForm(), "sent": request.GET.get("sent") == "1"}
        return render(request, "drivers/review_form.html", context)
    if CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is not None:
        return _refusal(
            request, status=403, charge_point=charge_point,
            message=_("Your review could not be sent because the page was too old. Please try again."),
        )
    form = DriverReviewForm(request.POST)
    if form.is_bot:
        return _refusal(request, status=400, charge_point=charge_point, message=_("Your review could not be sent."))
    if not review_allowed(address=_client_address(request), charge_point_id=charge_point.pk, request=request):
        return _refusal(
            request, status=429, charge_point=charge_point,
            message=_("Too many reviews were sent from here in a short time. Please try again later."),
        )
    if not form.is_valid():
        return render(request, "drivers/review_form.html", {"charge_point": charge_point, "form": form}, status=400)
    data = form.cleaned_data
    review_submit(
        charge_point=charge_point,
        rating=data["rating"],
        comment=data["comment"],
        driver=Driver(
            name=data["name"].strip(),
            email=data["email"].strip(),
            phone=data["phone"],
            language=translation.get_language() or settings.LANGUAGE_CODE,
            browser_token=request.COOKIES.get(BROWSER_COOKIE, "")[:100],
            channel="web",
        ),
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
