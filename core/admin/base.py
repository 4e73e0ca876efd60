"""The base classes of every ModelAdmin and inline in the back-office:
django-unfold's, so each list, page and inline has the theme's look (a
sidebar, filters in a side panel, labels). Import them from here, never from
``django.contrib.admin``: the theme is chosen in this one place.

An admin class from another package (Django's UserAdmin, axes, celery beat)
takes ``ModelAdmin`` as its last base: ``class X(Mixin, UserAdmin, ModelAdmin)``.
"""

from __future__ import annotations

from unfold.admin import ModelAdmin, StackedInline, TabularInline

__all__ = ["ModelAdmin", "StackedInline", "TabularInline"]
