"""Filter sets, and the scoped choices every filter set uses: an id of
another team's object is "not a valid choice", exactly like a missing one."""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import AuditAction, AuditLog, Team
from core.rest.filters import UtcIsoDateTimeFilter


def visible_teams(request):
    if request is None:  # schema generation
        return Team.objects.none()
    return Team.objects.for_user(request.user)


@extend_schema_field(OpenApiTypes.INT)
class TeamIdFilter(django_filters.ModelChoiceFilter):
    """A team id filtered through a method (so the schema cannot infer its type)."""


class TeamFilter(django_filters.FilterSet):
    country = django_filters.CharFilter(help_text="ISO 3166-1 alpha-2 code, e.g. DK.")
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the name.")

    class Meta:
        model = Team
        fields = ["country", "name", "language"]


class AuditLogFilter(django_filters.FilterSet):
    team = TeamIdFilter(queryset=visible_teams, method="filter_team", help_text="Team id (or the team an object left).")
    action = django_filters.MultipleChoiceFilter(choices=AuditAction.choices)
    object_type = django_filters.CharFilter(help_text="app_label.model, e.g. chargepoints.chargepoint.")
    object_id = django_filters.CharFilter()
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditLog
        fields = ["team", "action", "object_type", "object_id"]

    def filter_team(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(team=value) | Q(former_team=value))
