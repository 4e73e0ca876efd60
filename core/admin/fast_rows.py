"""A changelist's rows written straight to HTML, for lists with many rows.

django-unfold's ``items_for_result`` recomputes every column header (label,
sort links) for every row and renders each row through a template with an
``include`` per row: at 50 rows that was most of the reports list's time
beside its one query, at 200 rows several times the query. Here the headers
are computed once per page and each row is one string, with the same markup
unfold writes (its classes, ``data-label``, the link on
``list_display_links``, the row stripes), so the page looks the same.

Used by a ModelAdmin that sets ``fast_rows = True``, through the
``fast_result_list`` tag (accounts/templatetags/fast_list.py) in its
changelist template. Lists with editable columns, row actions, sortable rows
or expandable sections keep unfold's own rendering (``fast_rows_apply``).
"""

from __future__ import annotations

import datetime

from django.contrib.admin.templatetags.admin_list import result_hidden_fields
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value, lookup_field
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from unfold.templatetags.unfold_list import CHECKBOX_CLASSES, LINK_CLASSES, ROW_CLASSES, result_headers

_LINK_CLASS = " ".join(LINK_CLASSES)
_STRIPES = ("", "bg-base-50 dark:bg-white/[.02]")
_TR = ('<tr class="data-row block border border-base-200 mb-3 relative rounded-default lg:table-row '
       'lg:border-none lg:mb-0 lg:rounded-none dark:border-base-800">')


def fast_rows_apply(cl) -> bool:
    """Whether the list can be written by ``fast_rows`` (nothing per row that
    needs unfold's templates)."""
    admin = cl.model_admin
    return (
        getattr(admin, "fast_rows", False)
        and not cl.is_popup
        and not getattr(cl, "formset", None)
        and not getattr(admin, "ordering_field", None)
        and not getattr(admin, "list_sections", None)
        and not getattr(admin, "actions_row", None)
    )


class _Column:
    """What stays the same for a column on every row."""

    def __init__(self, cl, index: int, name: str, label: str):
        self.name = name
        self.index = index
        self.classes = [f"field-{name}", *ROW_CLASSES]
        self.header = conditional_escape(label)
        # unfold labels the first plain cell (the checkbox) "Select record".
        self.label = conditional_escape(gettext("Select record")) if index == 0 else self.header
        self.links = cl.list_display_links

    def is_link(self, first: bool) -> bool:
        if self.links is None:
            return False
        return (first and not self.links) or self.name in self.links


def _cell(cl, column: _Column, result, empty: str, first_link: bool) -> tuple[str, bool]:
    classes = column.classes
    try:
        f, attr, value = lookup_field(column.name, result, cl.model_admin)
    except ObjectDoesNotExist:
        html = empty
    else:
        if f is None or f.auto_created:
            if column.name == "action_checkbox":
                classes = CHECKBOX_CLASSES
            html = display_for_value(value, getattr(attr, "empty_value_display", empty),
                                     getattr(attr, "boolean", False))
            if isinstance(value, datetime.date | datetime.time):
                classes = [*classes, "nowrap"]
        else:
            html = display_for_field(value, f, empty)
            if isinstance(f, models.DateField | models.TimeField | models.ForeignKey):
                classes = [*classes, "nowrap"]
    if column.is_link(first_link):
        try:
            url = cl.url_for_result(result)
        except NoReverseMatch:
            inner = conditional_escape(html)
        else:
            url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)
            inner = format_html('<a href="{}" class="{}" >{}</a>', url, _LINK_CLASS, html)
        tag = "th" if first_link else "td"
        return f'<{tag} class="{" ".join(classes)}" data-label="{column.header}">{inner}</{tag}>', False
    return f'<td class="{" ".join(classes)}" data-label="{column.label}">{conditional_escape(html)}</td>', first_link


def fast_rows(cl) -> str:
    """Every row of the page as unfold writes them (its ``tbody`` per row)."""
    headers = list(result_headers(cl))
    columns = [_Column(cl, i, name, str(headers[i]["text"])) for i, name in enumerate(cl.list_display)]
    empty = cl.model_admin.get_empty_value_display()
    parts = []
    for number, result in enumerate(cl.result_list):
        parts.append(f'<tbody class="block relative lg:table-row-group {_STRIPES[number % 2]}" '
                     'x-data="{rowOpen: false}" >' + _TR)
        first_link = True
        for column in columns:
            cell, first_link = _cell(cl, column, result, empty, first_link)
            parts.append(cell)
        parts.append("</tr></tbody>")
    return mark_safe("".join(parts))


def fast_result_list_context(context, cl) -> dict:
    """The context of ``admin/fast_change_list_results.html``: unfold's
    ``result_list`` but with the rows as one string."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "rows": fast_rows(cl),
        "results": bool(cl.result_list),
        "actions_row": None,
        "has_add_permission": cl.model_admin.has_add_permission(context["request"]),
    }
