from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
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
    "hint": None,
}


class ErrorHintSerializer(serializers.Serializer):
    """What a charger's error code means (docs/error-hints.md); the strings
    are in the request's language (English or Danish)."""

    code = serializers.CharField(help_text="The catalogue's code: an OCPP 1.6 ChargePointErrorCode or a ChargeX "
                                 "MREC code (CX_...).")
    source = serializers.CharField(help_text="\"OCPP 1.6\" or \"ChargeX MREC\".")
    title = serializers.CharField()
    hint = serializers.CharField(help_text="Plain-language meaning (support's own text for a mapped vendor code).")
    party = serializers.ChoiceField(
        choices=["driver", "operator", "owner", "installer", "manufacturer", "grid"],
        help_text="The party most likely to act.")
    party_label = serializers.CharField()
    first_step = serializers.CharField()
    vendor_error_code = serializers.CharField(help_text="The charger's vendor error code, if any.")
    connector = serializers.IntegerField(required=False, help_text="The connector in error, when the hint comes "
                                         "from a connector rather than the charge point.")


# Filled in by the reporting app (it owns the catalogue; this app sits
# below it): charge points -> {charge point id: hint dict or None}.
error_hints_provider = None


def page_error_hints(field, obj, *, charge_point_of=lambda obj: obj) -> dict | None:
    """The hint of ``obj`` in a SerializerMethodField, resolved for the
    whole page at once on the first row (a fixed number of queries)."""
    if error_hints_provider is None or charge_point_of(obj) is None:
        return None
    parent = field.parent
    cache = field.context.get("_error_hints")
    if cache is None or charge_point_of(obj).pk not in cache:
        many = isinstance(parent.parent, serializers.ListSerializer) and parent.parent.instance is not None
        rows = list(parent.parent.instance) if many else [obj]
        cache = error_hints_provider([cp for row in rows if (cp := charge_point_of(row)) is not None])
        if many:
            field.context["_error_hints"] = cache
    return cache.get(charge_point_of(obj).pk)
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
    hint = serializers.SerializerMethodField(
        help_text="What the charger's current error code means, who is likely to act and a first step; null "
        "without a known error.")

    @extend_schema_field(ErrorHintSerializer(allow_null=True))
    def get_hint(self, charge_point) -> dict | None:
        return page_error_hints(self.fields["hint"], charge_point)

    class Meta:
        model = ChargePoint
        fields = [
            "id", "site", "owner", "operator", "name", "serial_number", "ocpp_id", "vendor",
            "model", "firmware_version", "connectivity", *CHARGE_POINT_READ_ONLY[1:], "hint",
        ]
        read_only_fields = CHARGE_POINT_READ_ONLY
