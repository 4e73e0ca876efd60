"""The back-office's way of showing times, the same on every page: one date
format (``when``) in the user's time zone (activated by
accounts.middleware), and ages as translated sentences (``ago``)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext

register = template.Library()

DATE_FORMAT = "Y-m-d H:i"


@register.filter
def when(value: datetime | None) -> str:
    """A date and time as the back-office writes them, in the active time zone."""
    if not value:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_filter(value, DATE_FORMAT)


def ago_text(value: datetime, now: datetime | None = None, *, depth: int = 1) -> str:
    now = now or timezone.now()
    if (now - value).total_seconds() < 60:
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": timesince(value, now, depth=depth)}


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago, in the active language ("3 hours ago", "for 3 timer siden")."""
    if not value:
        return ""
    return ago_text(value)
