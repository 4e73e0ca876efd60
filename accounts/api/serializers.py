from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts.models import AuditAction, AuditLog, Role, Team
from core.rest.fields import StrictModelSerializer


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A team",
            value={
                "id": 7,
                "name": "Nordic Charge ApS",
                "country": "DK",
                "language": "da",
                "your_role": "admin",
                "created_at": "2026-01-05T09:30:00Z",
            },
            response_only=True,
        )
    ]
)
class TeamSerializer(StrictModelSerializer):
    your_role = serializers.SerializerMethodField(
        help_text="The caller's role in this team; null for support or a team seen only "
        "through a shared charge point."
    )

    class Meta:
        model = Team
        fields = ["id", "name", "country", "language", "your_role", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices, allow_null=True))
    def get_your_role(self, team) -> str | None:
        request = self.context.get("request")
        roles = getattr(getattr(request, "user", None), "roles_by_team", None)
        if roles is None:
            return None
        role = roles().get(team.pk)
        return str(role) if role is not None else None


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A charge point moved to another operator",
            value={
                "id": 310,
                "created_at": "2026-02-01T09:12:00Z",
                "actor_label": "Ida Support <ida@example.com>",
                "team": 7,
                "former_team": None,
                "object_type": "chargepoints.chargepoint",
                "object_id": "301",
                "object_repr": "Harbour 1 (DK-AAR-0001)",
                "action": "move",
                "changes": {"operator": {"before": 7, "after": 9}},
                "note": "",
            },
            response_only=True,
        )
    ]
)
class AuditLogSerializer(serializers.ModelSerializer):
    action = serializers.ChoiceField(choices=AuditAction.choices, read_only=True)
    changes = serializers.DictField(
        read_only=True, help_text='Each changed field: {"before": ..., "after": ...}; ids for related objects.'
    )

    class Meta:
        model = AuditLog
        fields = ["id", "created_at", "actor_label", "team", "former_team", "object_type", "object_id",
                  "object_repr", "action", "changes", "note"]
        read_only_fields = fields
