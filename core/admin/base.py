"""The base classes of every ModelAdmin and inline in the back-office:
django-unfold's, so each list, page and inline has the theme's look (a
sidebar, filters in a side panel, labels). Import them from here, never from
``django.contrib.admin``: the theme is chosen in this one place.

An admin class from another package (Django's UserAdmin, axes, celery beat)
takes ``ModelAdmin`` as its last base: ``class X(Mixin, UserAdmin, ModelAdmin)``.
"""

from __future__ import annotations

from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.templatetags import unfold_list

__all__ = ["ModelAdmin", "StackedInline", "TabularInline"]


# Unfold 0.91 builds a list's column headers again for every row (each
# cell's data-label), rendering the select-all checkbox each time: on a
# 200-row page of reports that was more than half the page's time. The
# headers depend on the list, not the row, so they are built once per list.
_build_result_headers = unfold_list.result_headers


def _result_headers_once(cl):
    headers = getattr(cl, "_backoffice_result_headers", None)
    if headers is None:
        headers = cl._backoffice_result_headers = list(_build_result_headers(cl))
    return iter(headers)


unfold_list.result_headers = _result_headers_once
