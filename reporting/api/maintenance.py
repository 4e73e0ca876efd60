"""Maintenance windows through the API: the windows of the caller's teams;
creating, changing and deleting needs the admin role in the window's team
(support: any team). The service (reporting.maintenance) validates (400)
and decides who may (403)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers, viewsets

from chargepoints.api.serializers import ScopedTeamField, VisibleSiteField
from core.errors import Invalid
from core.rest.fields import StrictCharField, StrictModelSerializer
from core.rest.filters import UtcIsoDateTimeFilter
from reporting.maintenance import (
    maintenance_window_create,
    maintenance_window_delete,
    maintenance_window_update,
)
from reporting.models import MaintenanceWindow, SilencedDetection

from .serializers import ScopedChargePointField

TAG = "maintenance windows"


class SilencedDetectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SilencedDetection
        fields = ["charge_point", "reason", "first_seen_at", "last_seen_at", "detections"]
        read_only_fields = fields


class WeekdaysField(serializers.ListField):
    """Days 0 (Monday) … 6 (Sunday) as a list; stored as "0,5"."""

    child = serializers.IntegerField(min_value=0, max_value=6)

    def to_representation(self, data):
        return [int(day) for day in (data or "").split(",") if day]

    def to_internal_value(self, data):
        return ",".join(str(day) for day in sorted(set(super().to_internal_value(data))))


WINDOW_EXAMPLE = {
    "id": 5,
    "team": 7,
    "site": 12,
    "charge_point": None,
    "reason": "Grid operator replaces the transformer",
    "starts_at": "2026-03-02T06:00:00Z",
    "ends_at": "2026-03-02T14:00:00Z",
    "weekdays": [],
    "local_start": None,
    "duration_minutes": None,
    "time_zone": "Europe/Copenhagen",
    "created_by": 3,
    "created_at": "2026-02-20T10:00:00Z",
    "would_have_filed": [{"charge_point": 301, "reason": "disconnected", "first_seen_at": "2026-03-02T06:11:00Z",
                          "last_seen_at": "2026-03-02T13:58:00Z", "detections": 468}],
}
_WRITTEN = ("team", "site", "charge_point", "reason", "starts_at", "ends_at", "weekdays", "local_start",
            "duration_minutes", "time_zone")


@extend_schema_serializer(
    examples=[
        OpenApiExample("A maintenance window", value=WINDOW_EXAMPLE, response_only=True),
        OpenApiExample("Silence a site for a day", request_only=True,
                       value={k: WINDOW_EXAMPLE[k] for k in _WRITTEN}),
        OpenApiExample("Every Sunday night, 02:00 for 3 hours", request_only=True, value={
            "team": 7, "charge_point": 301, "reason": "Weekly firmware updates",
            "starts_at": "2026-03-01T00:00:00Z", "weekdays": [6], "local_start": "02:00",
            "duration_minutes": 180, "time_zone": "Europe/Copenhagen"}),
    ]
)
class MaintenanceWindowSerializer(StrictModelSerializer):
    team = ScopedTeamField(help_text="Id of the team the window belongs to; one where you may edit assets.")
    site = VisibleSiteField(required=False, allow_null=True, help_text="A site: all its charge points.")
    charge_point = ScopedChargePointField(required=False, allow_null=True, help_text="One charge point.")
    reason = StrictCharField(max_length=300)
    weekdays = WeekdaysField(
        required=False,
        help_text="Weekly windows: the days, 0 = Monday … 6 = Sunday. Empty: a one-off window.",
    )
    would_have_filed = SilencedDetectionSerializer(
        source="silenced", many=True, read_only=True,
        help_text="What the health checks detected during the window and did not file.",
    )

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "team", "site", "charge_point", "reason", "starts_at", "ends_at", "weekdays",
                  "local_start", "duration_minutes", "time_zone", "created_by", "created_at",
                  "would_have_filed"]
        read_only_fields = ["id", "created_by", "created_at"]


class MaintenanceWindowFilter(django_filters.FilterSet):
    active_at = UtcIsoDateTimeFilter(method="filter_active_at",
                                                 help_text="Windows whose period contains this moment.")

    class Meta:
        model = MaintenanceWindow
        fields = ["team", "site", "charge_point"]

    def filter_active_at(self, queryset, name, value):
        return queryset.filter(starts_at__lte=value).exclude(ends_at__lte=value)


@extend_schema_view(
    list=extend_schema(summary="List maintenance windows", tags=[TAG],
                       description="Of the teams you belong to, newest start first."),
    retrieve=extend_schema(summary="Get a maintenance window", tags=[TAG]),
    create=extend_schema(
        summary="Create a maintenance window", tags=[TAG],
        description="While a window is active the health checks file nothing for its target (a charge "
        "point, a site, or every charge point the team owns or operates) and list what they would have "
        "filed. Needs the admin role in the team. 400 when the end is not after the start or the target "
        "is not the team's.",
    ),
    update=extend_schema(summary="Replace a maintenance window", tags=[TAG]),
    partial_update=extend_schema(summary="Change a maintenance window", tags=[TAG],
                                 description="The team cannot be changed."),
    destroy=extend_schema(summary="Delete a maintenance window", tags=[TAG]),
)
class MaintenanceWindowViewSet(viewsets.ModelViewSet):
    serializer_class = MaintenanceWindowSerializer
    filterset_class = MaintenanceWindowFilter
    search_fields = ["reason"]
    ordering_fields = ["starts_at", "ends_at", "id"]
    ordering = ["-starts_at", "-id"]

    def get_queryset(self):
        return MaintenanceWindow.objects.for_user(self.request.user).prefetch_related("silenced")

    def perform_create(self, serializer):
        serializer.instance = maintenance_window_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        changes = dict(serializer.validated_data)
        team = changes.pop("team", None)
        if team is not None and team.pk != serializer.instance.team_id:
            raise Invalid("A window stays with its team; delete it and create one for the other team.",
                          field="team")
        serializer.instance = maintenance_window_update(window=serializer.instance, by=self.request.user,
                                                        **changes)

    def perform_destroy(self, instance):
        maintenance_window_delete(window=instance, by=self.request.user)
