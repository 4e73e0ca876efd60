from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from accounts.models import Team
from accounts.permissions import Capability, teams_with_capability
from chargepoints.models import ChargePoint, Site
from core.rest.fields import StrictModelSerializer, StrictPrimaryKeyRelatedField


def _actor(serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class ScopedTeamField(StrictPrimaryKeyRelatedField):
    """A team id, limited to the teams where the caller may edit assets."""

    def get_queryset(self):
        actor = _actor(self.parent) if self.parent is not None else None
        team_ids = teams_with_capability(actor, Capability.EDIT_ASSETS) if actor else []
        return Team.objects.all() if team_ids is None else Team.objects.filter(pk__in=team_ids)


class VisibleTeamField(StrictPrimaryKeyRelatedField):
    def get_queryset(self):
        actor = _actor(self.parent) if self.parent is not None else None
        return Team.objects.for_user(actor) if actor else Team.objects.none()


class VisibleSiteField(StrictPrimaryKeyRelatedField):
    def get_queryset(self):
        actor = _actor(self.parent) if self.parent is not None else None
        return Site.objects.for_user(actor) if actor else Site.objects.none()


SITE_EXAMPLE = {
    "id": 12,
    "team": 7,
    "name": "Harbour car park",
    "address": "Havnegade 1",
    "city": "Aarhus",
    "postal_code": "8000",
    "country": "DK",
    "latitude": "56.153400",
    "longitude": "10.214100",
    "created_at": "2026-01-05T09:30:00Z",
}


@extend_schema_serializer(
    examples=[
        OpenApiExample("A site", value=SITE_EXAMPLE, response_only=True),
        OpenApiExample(
            "Create a site",
            value={k: v for k, v in SITE_EXAMPLE.items() if k not in ("id", "created_at")},
            request_only=True,
        ),
    ]
)
class SiteSerializer(StrictModelSerializer):
    team = ScopedTeamField(help_text="Id of the team the site belongs to; one where you may edit assets.")
    country = serializers.RegexField(
        r"^[A-Z]{2}\Z", max_length=2, help_text="ISO 3166-1 alpha-2 code, upper case, e.g. DK."
    )
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True
    )

    class Meta:
        model = Site
        fields = [
            "id", "team", "name", "address", "city", "postal_code", "country",
            "latitude", "longitude", "created_at",
        ]
        read_only_fields = ["id", "created_at"]


CHARGE_POINT_EXAMPLE = {
    "id": 301,
    "site": 12,
    "owner": 7,
    "operator": 7,
    "name": "Harbour 1",
    "serial_number": "ALF-000123",
    "ocpp_id": "DK-AAR-0001",
    "vendor": "Alfen",
    "model": "Eve Single Pro",
    "firmware_version": "6.4.0",
    "connectivity": "cellular",
    "state": "available",
    "state_since": "2026-02-01T08:00:00Z",
    "error_code": "",
    "vendor_error_code": "",
    "last_heartbeat_at": "2026-02-01T08:14:30Z",
    "wifi_signal_dbm": None,
    "wifi_signal_at": None,
    "cellular_signal_dbm": -87,
    "cellular_signal_at": "2026-02-01T08:10:00Z",
    "created_at": "2026-01-05T09:30:00Z",
}
CHARGE_POINT_READ_ONLY = [
    "id", "state", "state_since", "error_code", "vendor_error_code", "last_heartbeat_at",
    "wifi_signal_dbm", "wifi_signal_at", "cellular_signal_dbm", "cellular_signal_at", "created_at",
]


@extend_schema_serializer(
    examples=[
        OpenApiExample("A charge point", value=CHARGE_POINT_EXAMPLE, response_only=True),
        OpenApiExample(
            "Register a charge point",
            value={k: v for k, v in CHARGE_POINT_EXAMPLE.items() if k not in CHARGE_POINT_READ_ONLY},
            request_only=True,
        ),
    ]
)
class ChargePointSerializer(StrictModelSerializer):
    """The live state fields are read-only: telemetry sets them."""

    site = VisibleSiteField(help_text="Site id.")
    owner = VisibleTeamField(help_text="Owner team id.")
    operator = VisibleTeamField(help_text="Operator team id; the owner's id when it operates itself.")

    class Meta:
        model = ChargePoint
        fields = [
            "id", "site", "owner", "operator", "name", "serial_number", "ocpp_id", "vendor",
            "model", "firmware_version", "connectivity", *CHARGE_POINT_READ_ONLY[1:],
        ]
        read_only_fields = CHARGE_POINT_READ_ONLY
