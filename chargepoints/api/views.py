"""Sites and charge points: read what the caller's teams may see, write where
the caller is an admin. Another team's object is a 404; a visible object the
caller may not change is a 403."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from chargepoints.assets import (
    charge_point_create,
    charge_point_delete,
    charge_point_update,
    site_create,
    site_delete,
    site_update,
)
from chargepoints.models import ChargePoint, Site

from .filters import ChargePointFilter, SiteFilter
from .serializers import ChargePointSerializer, SiteSerializer


def _crud_schema(noun: str, tag: str, notes: str = ""):
    return extend_schema_view(
        list=extend_schema(summary=f"List {noun}s", tags=[tag]),
        retrieve=extend_schema(summary=f"Get a {noun}", tags=[tag]),
        create=extend_schema(summary=f"Create a {noun}", description=notes, tags=[tag]),
        update=extend_schema(summary=f"Replace a {noun}", description=notes, tags=[tag]),
        partial_update=extend_schema(summary=f"Change a {noun}", description=notes, tags=[tag]),
        destroy=extend_schema(
            summary=f"Delete a {noun}",
            description=f"Refused with 409 while reports or other records refer to the {noun}.",
            tags=[tag],
        ),
    )


@_crud_schema("site", "sites", "Needs the admin role in the site's team.")
class SiteViewSet(viewsets.ModelViewSet):
    serializer_class = SiteSerializer
    filterset_class = SiteFilter
    search_fields = ["name", "address", "city", "postal_code"]
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return Site.objects.for_user(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = site_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = site_update(site=serializer.instance, by=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        site_delete(site=instance, by=self.request.user)


@_crud_schema(
    "charge point",
    "charge points",
    "The owner team's admins register a charge point, on one of the owner's sites, and decide its site; "
    "the operator team's admins may change its identity too. A new owner or operator is support's "
    "(403 otherwise). The live state (state, heartbeat, signal) is read-only here; telemetry sets it.",
)
class ChargePointViewSet(viewsets.ModelViewSet):
    serializer_class = ChargePointSerializer
    filterset_class = ChargePointFilter
    search_fields = ["name", "serial_number", "ocpp_id", "vendor", "model"]
    ordering_fields = ["name", "created_at", "state_since", "ocpp_id", "id"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return ChargePoint.objects.for_user(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = charge_point_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = charge_point_update(
            charge_point=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        charge_point_delete(charge_point=instance, by=self.request.user)
