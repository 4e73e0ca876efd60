"""Annotations for admin list columns."""

from __future__ import annotations

from django.db.models import Count, IntegerField, QuerySet, Subquery
from django.db.models.functions import Coalesce


def related_count(queryset: QuerySet, column: str = "pk"):
    """A correlated COUNT of ``queryset`` (filtered on an ``OuterRef``),
    evaluated only for the rows on the page."""
    return Coalesce(
        Subquery(queryset.order_by().values(column).annotate(n=Count("pk")).values("n")[:1],
                 output_field=IntegerField()),
        0,
    )
