"""Pagination classes. This module must not import rest_framework.generics
(DRF imports it while building GenericAPIView)."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class CursorPagination(pagination.CursorPagination):
    """Newest first; constant time at any depth, no COUNT(*)."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200




class OccurredCursorPagination(CursorPagination):
    """Telemetry history: newest event first."""

    ordering = ("-occurred_at", "-id")


class EndedCursorPagination(CursorPagination):
    """Charges: most recently ended first."""

    ordering = ("-ended_at", "-id")
