"""What every ModelAdmin of the two back-offices shares.

How to put a model in the back-office (API keys, notifications and the
reporting admins all follow this)::

    from config.admin_mixins import ScopedAdminMixin
    from config.admin_sites import operator_site, support_site

    class WidgetAdmin(ScopedAdminMixin, admin.ModelAdmin):
        # What support may do in /admin/ (every team):
        support_actions = {"view", "add", "change"}
        # What a team member may do in /operator/, by capability:
        operator_capabilities = {"view": Capability.VIEW, "change": Capability.EDIT_ASSETS}

        def teams_of(self, obj):          # the teams an object belongs to
            return {obj.team_id}

    support_site.register(Widget, WidgetAdmin)
    operator_site.register(Widget, WidgetAdmin)

The mixin then decides has_module/view/add/change/delete_permission from
``accounts.permissions`` (operators are not staff and hold no Django model
permissions), and scopes:

- the list, the change/history/delete pages and autocomplete results, through
  ``get_queryset`` -> ``Model.objects.for_user(request.user)`` (override
  ``scope_queryset`` for a model without ``for_user``);
- foreign-key and many-to-many choices in forms, through the related model's
  ``for_user`` (override ``formfield_for_foreignkey`` to narrow further);
- list filters: use ``ScopedRelatedFilter`` below, never a bare foreign key in
  ``list_filter`` (Django's own lists every row of the related table).

Nothing here exports data; a ModelAdmin that adds an export must build it from
``get_queryset(request)``.
"""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from accounts.permissions import Capability, is_support, teams_with_capability

ACTIONS = ("view", "add", "change", "delete")


def scoped_queryset(model, user) -> QuerySet | None:
    """``model.objects.for_user(user)`` where the model has it, else None."""
    manager = model._default_manager
    for_user = getattr(manager, "for_user", None)
    return for_user(user) if for_user is not None else None


class ScopedAdminMixin:
    """Permissions and tenant scoping for both sites; see the module docstring."""

    support_actions: set[str] = {"view"}
    operator_capabilities: dict[str, Capability] = {"view": Capability.VIEW}

    # --- who may do what ---

    def on_support_site(self) -> bool:
        from config.admin_sites import SupportAdminSite

        return isinstance(self.admin_site, SupportAdminSite)

    def teams_of(self, obj) -> set[int]:
        """Ids of the teams an object belongs to (for per-object checks)."""
        raise NotImplementedError(f"{type(self).__name__} must say which teams an object belongs to")

    def capable_team_ids(self, request, capability: Capability) -> set[int]:
        ids = teams_with_capability(request.user, capability)
        return set() if ids is None else set(ids)

    def allows(self, request, action: str, obj=None) -> bool:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return False
        if self.on_support_site():
            return is_support(user) and action in self.support_actions
        if is_support(user):
            return False  # support staff work in /admin/
        capability = self.operator_capabilities.get(action)
        if capability is None:
            return False
        team_ids = self.capable_team_ids(request, capability)
        if obj is None:
            return bool(team_ids)
        return bool(team_ids & self.teams_of(obj))

    def has_module_permission(self, request):
        return self.allows(request, "view") or self.allows(request, "change")

    def has_view_permission(self, request, obj=None):
        return self.allows(request, "view", obj) or self.allows(request, "change", obj)

    def has_add_permission(self, request, *args):
        return self.allows(request, "add")

    def has_change_permission(self, request, obj=None):
        return self.allows(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self.allows(request, "delete", obj)

    # --- what they see ---

    def scope_queryset(self, request, queryset):
        if self.on_support_site() and is_support(request.user):
            return queryset
        if not self.has_module_permission(request):
            return queryset.none()
        for_user = getattr(queryset, "for_user", None)
        if for_user is None:
            raise NotImplementedError(f"{type(self).__name__} must override scope_queryset")
        return for_user(request.user)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            scoped = scoped_queryset(db_field.related_model, request.user)
            if scoped is not None:
                kwargs["queryset"] = scoped
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            scoped = scoped_queryset(db_field.related_model, request.user)
            if scoped is not None:
                kwargs["queryset"] = scoped
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class TeamOwnedAdminMixin(ScopedAdminMixin):
    """ScopedAdminMixin for a model that belongs to exactly one team through
    its ``team`` foreign key (memberships, report settings)."""

    def teams_of(self, obj) -> set[int]:
        return {obj.team_id}

    def scope_queryset(self, request, queryset):
        if self.on_support_site():
            return super().scope_queryset(request, queryset)
        if not self.has_module_permission(request):
            return queryset.none()
        from accounts.models import Team

        return queryset.filter(team__in=Team.objects.for_user(request.user))


class ScopedInlineMixin:
    """An inline on a scoped page: rows and choices limited like the page."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scoped = getattr(queryset, "for_user", None)
        return scoped(request.user) if scoped is not None else queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            scoped = scoped_queryset(db_field.related_model, request.user)
            if scoped is not None:
                kwargs["queryset"] = scoped
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- list filters -----------------------------------------------------------


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
        from django.db.models import Q

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
                    self.errors.append(f"“{value}” is not a date (use YYYY-MM-DD); it is ignored.")
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


# --- pagination on big tables ---------------------------------------------


def planner_row_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of how many rows the queryset returns (no scan)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. queryset.none(): nothing to estimate
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to ``exact_below`` rows and estimates above that.

    COUNT(*) over a million joined rows takes longer than the page itself;
    past a few thousand rows nobody pages to the end, so "about 250,000" is
    as useful. The planner's estimate is read with EXPLAIN, which costs a
    millisecond whatever the filters or the search. On SQLite it counts."""

    exact_below = 10_000

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_estimate = False

    @cached_property
    def count(self):
        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            estimate = planner_row_estimate(object_list)
            if estimate is not None and estimate >= self.exact_below:
                self.is_estimate = True
                return estimate
        return super().count

    def validate_number(self, number):
        # An estimate may overshoot: a page past the real end is shown empty
        # instead of failing the whole list.
        try:
            return super().validate_number(number)
        except EmptyPage:
            if self.is_estimate and int(number) >= 1:
                return int(number)
            raise

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if not self.is_estimate and top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self.object_list[bottom:top], number, self)


class BigTableAdminMixin:
    """For tables with millions of rows: no full count, estimated pages, and
    a plain action checkbox."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj):
        # Django renders a form widget through a template and calls str(obj)
        # for the label on every row: 0.9 ms a row, most of a 200-row page.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="Select #{}">',
            helpers.ACTION_CHECKBOX_NAME, obj.pk, obj.pk,
        )
