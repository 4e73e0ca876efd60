from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from accounts.models import Team

from .filters import TeamFilter
from .serializers import TeamSerializer


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
