"""Filters shared by every app's api/filters.py."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField, RangeField
from django_filters.widgets import DateRangeWidget


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, turned into UTC before it reaches the database:
    PostgreSQL refuses offsets beyond ±15:59 that Python accepts, and a date
    near year 1 or 9999 can overflow when shifted."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Enter a date-time between years 1 and 9999.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """One ISO 8601 date-time, in UTC before it reaches the database."""

    field_class = UtcIsoDateTimeField


class UtcIsoDateTimeRangeField(RangeField):
    widget = DateRangeWidget  # the _after / _before suffixes

    def __init__(self, *args, **kwargs):
        super().__init__((UtcIsoDateTimeField(), UtcIsoDateTimeField()), *args, **kwargs)


class DateTimeRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    """``<name>_after`` and ``<name>_before``, ISO 8601 date-times."""

    field_class = UtcIsoDateTimeRangeField
