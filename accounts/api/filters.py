"""Filter sets, and the scoped choices every filter set uses: an id of
another team's object is "not a valid choice", exactly like a missing one."""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import Team


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
