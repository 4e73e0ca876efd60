"""Sites and charge points: read what the caller's teams may see, write where
the caller is an admin. Another team's object is a 404; a visible object the
caller may not change is a 403."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, permissions, viewsets

from accounts.permissions import Capability, can_on_charge_point, can_on_team
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

    def _require_edit(self, site: Site) -> None:
        if not can_on_team(self.request.user, Capability.EDIT_ASSETS, team_id=site.team_id):
            raise exceptions.PermissionDenied("You need the admin role in the site's team to change it.")

    def get_object(self):
        obj = super().get_object()
        if self.request.method not in permissions.SAFE_METHODS:
            self._require_edit(obj)
        return obj


@_crud_schema(
    "charge point",
    "charge points",
    "Needs the admin role in the owner or the operator team. The live state "
    "(state, heartbeat, signal) is read-only here; telemetry sets it.",
)
class ChargePointViewSet(viewsets.ModelViewSet):
    serializer_class = ChargePointSerializer
    filterset_class = ChargePointFilter
    search_fields = ["name", "serial_number", "ocpp_id", "vendor", "model"]
    ordering_fields = ["name", "created_at", "state_since", "ocpp_id", "id"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return ChargePoint.objects.for_user(self.request.user)

    def _require_edit(self, charge_point: ChargePoint) -> None:
        if not can_on_charge_point(self.request.user, Capability.EDIT_ASSETS, charge_point=charge_point):
            raise exceptions.PermissionDenied(
                "You need the admin role in the owner or operator team to change this charge point."
            )

    def get_object(self):
        obj = super().get_object()
        if self.request.method not in permissions.SAFE_METHODS:
            self._require_edit(obj)
        return obj
