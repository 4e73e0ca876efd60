"""List filters for the back-office: choices scoped to what the user may
see, and a from/to date range. Generic: nothing here knows an app."""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext


def scoped_queryset(model, user) -> QuerySet | None:
    """``model.objects.for_user(user)`` where the model has it, else None."""
    manager = model._default_manager
    for_user = getattr(manager, "for_user", None)
    return for_user(user) if for_user is not None else None


class ScopedRelatedFilter(admin.SimpleListFilter):
    """A filter on a related object whose choices are what the user may see.

    Subclass with ``title``, ``parameter_name``, ``related_model`` and
    ``lookup`` (a field path, or several joined by ``|`` to match any)."""

    related_model = None
    lookup = ""
    max_choices = 200

    def lookups(self, request, model_admin):
        queryset = scoped_queryset(self.related_model, request.user)
        if queryset is None:
            queryset = self.related_model._default_manager.all()
        return [(str(obj.pk), str(obj)) for obj in queryset[: self.max_choices]]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not str(value).isdigit():
            return queryset.none()  # a hand-edited URL: show nothing, not an error page
        q = Q()
        for path in self.lookup.split("|"):
            q |= Q(**{path: int(value)})
        return queryset.filter(q)


class DateRangeFilter(admin.ListFilter):
    """From/to date inputs for a date-time field (inclusive days, UTC).

    ``DateRangeFilter.on("created_at", "created")`` makes a filter class."""

    template = "admin/filters/date_range.html"
    field_name = "created_at"

    @classmethod
    def on(cls, field_name: str, title: str):
        return type(f"{field_name.title()}RangeFilter", (cls,), {"field_name": field_name, "title": title})

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.param_from = f"{self.field_name}__from"
        self.param_to = f"{self.field_name}__to"
        self.request = request
        self.raw = {}
        self.errors = []
        self.dates: dict[str, datetime.date | None] = {}
        for param in (self.param_from, self.param_to):
            value = params.pop(param, None)
            if isinstance(value, list):
                value = value[-1] if value else None
            self.raw[param] = value or ""
            parsed = None
            if value:
                try:
                    parsed = parse_date(value)
                except ValueError:
                    parsed = None
                if parsed is None:
                    self.errors.append(
                        gettext("“%(value)s” is not a date (use YYYY-MM-DD); it is ignored.") % {"value": value}
                    )
            self.dates[param] = parsed

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.param_from, self.param_to]

    def queryset(self, request, queryset):
        start, end = self.dates[self.param_from], self.dates[self.param_to]
        utc = datetime.UTC
        if start:
            queryset = queryset.filter(
                **{f"{self.field_name}__gte": datetime.datetime.combine(start, datetime.time.min, utc)}
            )
        # The last day there is (9999-12-31) has no next day to stop before:
        # up to and including it bounds nothing.
        if end and end < datetime.date.max:
            queryset = queryset.filter(
                **{f"{self.field_name}__lt": datetime.datetime.combine(end, datetime.time.min, utc)
                   + datetime.timedelta(days=1)}
            )
        return queryset

    def choices(self, changelist):
        own = set(self.expected_parameters()) | {"p", "e"}
        hidden = [(key, value) for key, value in self.request.GET.lists() if key not in own]
        yield {
            "hidden": [(key, v) for key, values in hidden for v in values],
            "from_name": self.param_from,
            "to_name": self.param_to,
            "from_value": self.raw[self.param_from],
            "to_value": self.raw[self.param_to],
            "errors": self.errors,
            "today": timezone.now().date().isoformat(),
            "clear_url": changelist.get_query_string(remove=[self.param_from, self.param_to]),
            "active": bool(self.dates[self.param_from] or self.dates[self.param_to]),
        }


