"""A person's preferences: the back-office's language and time zone.

A user's language is their own choice where they made one, else the
language of their team (the first team they joined that has one), else the
installation's default (``LANGUAGE_CODE``). ``UserLanguageMiddleware``
(accounts/middleware.py) turns it on for each request of a logged-in user,
in place of the browser's Accept-Language.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.db import transaction

from accounts.audit import audit_record
from accounts.models import AuditAction, Membership, User
from core.errors import Invalid, NotAllowed


def available_languages() -> dict[str, str]:
    return dict(settings.LANGUAGES)


def user_language(user) -> str:
    """The language to show ``user`` the back-office in."""
    languages = available_languages()
    chosen = getattr(user, "language", "")
    if chosen in languages:
        return chosen
    cached = getattr(user, "_team_language_cache", None)
    if cached is None:
        cached = ""
        if getattr(user, "pk", None) is not None:
            team_languages = (
                Membership.objects.filter(user_id=user.pk).order_by("created_at", "id")
                .values_list("team__language", flat=True)
            )
            cached = next((code for code in team_languages if code in languages), "")
        user._team_language_cache = cached
    return cached or settings.LANGUAGE_CODE


def user_set_language(*, user: User, language: str, by) -> User:
    """Save ``user``'s back-office language (their own choice: only they, or
    support, change it). An empty language goes back to the team's."""
    if by is None or (by.pk != user.pk and not getattr(by, "is_support", False)):
        raise NotAllowed("Only the person themselves or support may change their language.")
    if language and language not in available_languages():
        raise Invalid(f"Unknown language: {language!r}.")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = locked.language
        if before == language:
            return locked
        locked.language = language
        locked.save(update_fields=["language"])
        audit_record(by=by, action=AuditAction.UPDATE, obj=locked, team=None,
                     changes={"language": {"before": before, "after": language}})
    user.language = language
    return locked


def user_time_zone(user) -> zoneinfo.ZoneInfo:
    """The time zone ``user`` reads dates in: their own, else the installation's."""
    name = getattr(user, "time_zone", "") or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def user_set_time_zone(*, user: User, time_zone: str, by) -> User:
    """Save ``user``'s time zone (only they, or support); empty: the installation's."""
    if by is None or (by.pk != user.pk and not getattr(by, "is_support", False)):
        raise NotAllowed("Only the person themselves or support may change their time zone.")
    if time_zone and time_zone not in zoneinfo.available_timezones():
        raise Invalid(f"Unknown time zone: {time_zone!r}.")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = locked.time_zone
        if before == time_zone:
            return locked
        locked.time_zone = time_zone
        locked.save(update_fields=["time_zone"])
        audit_record(by=by, action=AuditAction.UPDATE, obj=locked, team=None,
                     changes={"time_zone": {"before": before, "after": time_zone}})
    user.time_zone = time_zone
    return locked
