"""Lists over tables with millions of rows: estimated counts and pages."""

from __future__ import annotations

import json

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from unfold.widgets import CHECKBOX_CLASSES

# The theme's checkbox look, written once instead of rendered per row.
_CHECKBOX_CLASS = " ".join([*CHECKBOX_CLASSES, "action-select"])


def planner_row_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of how many rows the queryset returns (no scan).

    A queryset with ``disjoint_parts()`` (querysets whose union it is, no
    row in two) is estimated part by part and the estimates added: each
    part is one index range the planner estimates well, where an OR of
    them it often does not."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    parts = getattr(queryset, "disjoint_parts", None)
    if parts is not None:
        parts = parts()
        if len(parts) > 1:
            return sum(planner_row_estimate(part) for part in parts)
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. queryset.none(): nothing to estimate
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
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
            '<input type="checkbox" name="{}" value="{}" class="{}" aria-label="Select #{}">',
            helpers.ACTION_CHECKBOX_NAME, obj.pk, _CHECKBOX_CLASS, obj.pk,
        )
