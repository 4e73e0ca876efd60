from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts.models import Role, Team
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
