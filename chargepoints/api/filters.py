from __future__ import annotations

import django_filters
from django.db.models import Q

from accounts.api.filters import TeamIdFilter, visible_teams
from chargepoints.models import (
    Charge,
    ChargeOutcome,
    ChargePoint,
    ChargePointState,
    Connectivity,
    Heartbeat,
    SignalKind,
    SignalReading,
    Site,
    StateChange,
)
from core.rest.filters import DateTimeRangeFilter


def visible_sites(request):
    if request is None:
        return Site.objects.none()
    return Site.objects.for_user(request.user)


def visible_charge_points(request):
    if request is None:
        return ChargePoint.objects.none()
    return ChargePoint.objects.for_user(request.user)


class SiteFilter(django_filters.FilterSet):
    team = django_filters.ModelChoiceFilter(queryset=visible_teams, help_text="Team id.")
    country = django_filters.CharFilter(help_text="ISO 3166-1 alpha-2 code, e.g. DK.")
    city = django_filters.CharFilter(lookup_expr="iexact")
    created = DateTimeRangeFilter(field_name="created_at")

    class Meta:
        model = Site
        fields = ["team", "country", "city", "created"]


class ChargePointFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(distinct=False, choices=ChargePointState.choices)
    connectivity = django_filters.ChoiceFilter(choices=Connectivity.choices)
    site = django_filters.ModelChoiceFilter(queryset=visible_sites, help_text="Site id.")
    owner = django_filters.ModelChoiceFilter(queryset=visible_teams, help_text="Owner team id.")
    operator = django_filters.ModelChoiceFilter(queryset=visible_teams, help_text="Operator team id.")
    team = TeamIdFilter(
        queryset=visible_teams, method="filter_team", help_text="Owned or operated by this team id."
    )
    vendor = django_filters.CharFilter(lookup_expr="iexact")
    created = DateTimeRangeFilter(field_name="created_at")
    state_since = DateTimeRangeFilter()

    class Meta:
        model = ChargePoint
        fields = ["state", "connectivity", "site", "owner", "operator", "team", "vendor"]

    def filter_team(self, queryset, name, value):
        return queryset.filter(Q(owner=value) | Q(operator=value))


# --- Telemetry history ---------------------------------------------------------------


class _TelemetryFilter(django_filters.FilterSet):
    charge_point = django_filters.ModelChoiceFilter(queryset=visible_charge_points, help_text="Charge point id.")
    ocpp_id = django_filters.CharFilter(field_name="charge_point__ocpp_id", help_text="Charge point OCPP id.")
    site = django_filters.ModelChoiceFilter(
        field_name="charge_point__site", queryset=visible_sites, help_text="Site id."
    )
    team = TeamIdFilter(
        queryset=visible_teams, method="filter_team", help_text="Owned or operated by this team id."
    )
    received = DateTimeRangeFilter(field_name="received_at")

    def filter_team(self, queryset, name, value):
        return queryset.filter(Q(charge_point__owner=value) | Q(charge_point__operator=value))


class StateChangeFilter(_TelemetryFilter):
    state = django_filters.MultipleChoiceFilter(distinct=False, choices=ChargePointState.choices)
    occurred = DateTimeRangeFilter(field_name="occurred_at")

    class Meta:
        model = StateChange
        fields = ["charge_point", "ocpp_id", "site", "team", "state", "error_code"]


class HeartbeatFilter(_TelemetryFilter):
    occurred = DateTimeRangeFilter(field_name="occurred_at")

    class Meta:
        model = Heartbeat
        fields = ["charge_point", "ocpp_id", "site", "team"]


class SignalReadingFilter(_TelemetryFilter):
    kind = django_filters.ChoiceFilter(choices=SignalKind.choices)
    dbm = django_filters.RangeFilter(help_text="dbm_min / dbm_max.")
    occurred = DateTimeRangeFilter(field_name="occurred_at")

    class Meta:
        model = SignalReading
        fields = ["charge_point", "ocpp_id", "site", "team", "kind"]


class ChargeFilter(_TelemetryFilter):
    outcome = django_filters.ChoiceFilter(choices=ChargeOutcome.choices)
    started = DateTimeRangeFilter(field_name="started_at")
    ended = DateTimeRangeFilter(field_name="ended_at")

    class Meta:
        model = Charge
        fields = ["charge_point", "ocpp_id", "site", "team", "outcome", "stop_reason"]
