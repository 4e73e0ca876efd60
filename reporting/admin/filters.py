"""List filters for reports whose choices come from what the user may see."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import Team
from chargepoints.models import Site
from core.admin.filters import DateRangeFilter, ScopedRelatedFilter
from reporting.models import ReportState


class TeamFilter(ScopedRelatedFilter):
    """Reports about charge points the team owns or operates."""

    title = "team"
    parameter_name = "team"
    related_model = Team
    lookup = "charge_point__owner_id|charge_point__operator_id|site__team_id"


class SiteFilter(ScopedRelatedFilter):
    title = "site"
    parameter_name = "site"
    related_model = Site
    lookup = "charge_point__site_id|site_id"

    def lookups(self, request, model_admin):
        team_id = request.GET.get("team", "")
        sites = Site.objects.for_user(request.user).order_by("name")
        if team_id.isdigit():  # a team is chosen: its sites only
            sites = sites.filter(team_id=int(team_id))
        return [(str(site.pk), site.name) for site in sites[: self.max_choices]]


CreatedRangeFilter = DateRangeFilter.on("created_at", "created")


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("unresolved", "Unresolved (open or assigned)"), *ReportState.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "unresolved":
            return queryset.unresolved()
        if value in ReportState.values:
            return queryset.filter(state=value)
        if value is not None:
            return queryset.none()
        return queryset


class ResponseTargetFilter(admin.SimpleListFilter):
    """Unresolved reports past a response-time target, or at risk of it
    (reporting/response_targets.py)."""

    title = "response-time target"
    parameter_name = "target"

    def lookups(self, request, model_admin):
        return [("breached", "Breached"), ("at_risk", "At risk")]

    def queryset(self, request, queryset):
        from reporting.response_targets import reports_by_target_status

        if self.value() in ("breached", "at_risk"):
            return reports_by_target_status(queryset, status=self.value())
        return queryset
