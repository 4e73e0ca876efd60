from __future__ import annotations

import django_filters
from django.db.models import Q

from accounts.api.filters import TeamIdFilter, visible_teams
from chargepoints.api.filters import visible_charge_points, visible_sites
from core.rest.filters import DateTimeRangeFilter
from reporting.catalogue import Party, Reason, Source
from reporting.models import EventKind, Report, ReportEvent, ReportMessage, ReportState


class ReportFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(distinct=False, choices=ReportState.choices, help_text="Repeat for several.")
    source = django_filters.MultipleChoiceFilter(distinct=False, choices=Source.choices)
    reason = django_filters.MultipleChoiceFilter(distinct=False, choices=Reason.choices)
    party = django_filters.MultipleChoiceFilter(
        distinct=False,
        field_name="assigned_party", choices=Party.choices, help_text="The party it is assigned to."
    )
    team = TeamIdFilter(
        queryset=visible_teams, method="filter_team",
        help_text="Team id: reports on charge points it owns or operates.",
    )
    site = django_filters.ModelChoiceFilter(
        queryset=visible_sites, method="filter_site",
        help_text="Site id: reports on its charge points and about the site itself (site offline).",
    )
    charge_point = django_filters.ModelChoiceFilter(queryset=visible_charge_points, help_text="Charge point id.")
    created = DateTimeRangeFilter(field_name="created_at")
    updated = DateTimeRangeFilter(field_name="updated_at")

    class Meta:
        model = Report
        fields = ["state", "source", "reason", "party", "team", "site", "charge_point"]

    def filter_team(self, queryset, name, value):
        # As owner or operator (a site report carries its site's team in
        # both), remembered as two team ranges (ReportQuerySet.by_ranges).
        return queryset.any_team(value.pk)

    def filter_site(self, queryset, name, value):
        return queryset.filter(Q(charge_point__site=value) | Q(charge_point__isnull=True, site=value))


class ReportEventFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(distinct=False, choices=EventKind.choices)
    created = DateTimeRangeFilter(field_name="created_at")

    class Meta:
        model = ReportEvent
        fields = ["kind"]


class ReportMessageFilter(django_filters.FilterSet):
    sender = django_filters.ChoiceFilter(choices=ReportMessage.Sender.choices)
    sent = DateTimeRangeFilter(field_name="sent_at")

    class Meta:
        model = ReportMessage
        fields = ["sender"]
