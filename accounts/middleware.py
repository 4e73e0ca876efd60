"""The back-office in each logged-in person's own language and time zone."""

from __future__ import annotations

from django.utils import timezone, translation

from accounts.preferences import user_language, user_time_zone


class UserLanguageMiddleware:
    """After authentication: a logged-in user's language
    (accounts.preferences.user_language) replaces the one LocaleMiddleware
    took from the browser. Anonymous visitors (the drivers' pages, the login
    page) keep the browser's. Dates are shown in the user's time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = user_language(user)
            translation.activate(language)
            request.LANGUAGE_CODE = language
            timezone.activate(user_time_zone(user))
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        if user is not None and user.is_authenticated:
            response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
