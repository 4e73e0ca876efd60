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
    _require_self_or_support(user, by, "language")
    if language and language not in available_languages():
        raise Invalid(f"Unknown language: {language!r}.")
    return _user_set(user=user, field="language", value=language, by=by)


def user_time_zone(user) -> zoneinfo.ZoneInfo:
    """The time zone ``user`` reads dates in: their own, else the installation's."""
    name = getattr(user, "time_zone", "") or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def user_set_time_zone(*, user: User, time_zone: str, by) -> User:
    """Save ``user``'s time zone (only they, or support); empty: the installation's."""
    _require_self_or_support(user, by, "time zone")
    if time_zone and time_zone not in zoneinfo.available_timezones():
        raise Invalid(f"Unknown time zone: {time_zone!r}.")
    return _user_set(user=user, field="time_zone", value=time_zone, by=by)


def _require_self_or_support(user: User, by, what: str) -> None:
    if by is None or (by.pk != user.pk and not getattr(by, "is_support", False)):
        raise NotAllowed(f"Only the person themselves or support may change their {what}.")


def _user_set(*, user: User, field: str, value: str, by) -> User:
    """Save one of a person's own preferences (checked by the caller), audited."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = getattr(locked, field)
        if before == value:
            return locked
        setattr(locked, field, value)
        locked.save(update_fields=[field])
        audit_record(by=by, action=AuditAction.UPDATE, obj=locked, team=None,
                     changes={field: {"before": before, "after": value}})
    setattr(user, field, value)
    return locked
