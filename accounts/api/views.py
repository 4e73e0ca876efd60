from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from accounts.models import AuditLog, Team
from core.rest.pagination import CursorPagination

from .filters import AuditLogFilter, TeamFilter
from .serializers import AuditLogSerializer, TeamSerializer


@extend_schema_view(
    list=extend_schema(summary="List the teams the caller may see", tags=["teams"]),
    retrieve=extend_schema(summary="Get a team", tags=["teams"]),
)
class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Teams are read-only through the API; support manages them in /admin/."""

    serializer_class = TeamSerializer
    filterset_class = TeamFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name"]

    def get_queryset(self):
        return Team.objects.for_user(self.request.user).order_by("name")


@extend_schema_view(
    list=extend_schema(
        summary="The audit log",
        description="Every change made through the back-offices or this API: who, when, in which team, to "
        "which object, each changed field before and after. Newest first, cursor-paginated. Support sees "
        "every team's; a key or person with the admin role sees their team's.",
        tags=["audit"],
    ),
    retrieve=extend_schema(summary="Get an audit log entry", tags=["audit"]),
)
class AuditLogViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilter
    pagination_class = CursorPagination
    search_fields = ["object_repr", "actor_label"]
    ordering_fields = ["created_at", "id"]
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return AuditLog.objects.for_user(self.request.user)
