"""Reports in both back-offices: the list, the report's page and its actions.

Support (/admin/) sees every team's reports; a team member (/operator/) sees
the reports about charge points their teams own or operate, and acts by role
(see accounts.permissions). The page itself is read-only: reports change only
through the assign/resolve/reopen pages, comments and conversation messages,
each a call to ``reporting.services`` that also writes the timeline.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _

from accounts.admin_sites import operator_site, support_site
from accounts.admin_tenancy import ScopedAdminMixin
from accounts.permissions import Capability, is_support
from core.admin.base import ModelAdmin
from core.admin.pagination import BigTableAdminMixin
from reporting import services
from reporting.catalogue import Source
from reporting.contact_visibility import (
    driver_contact_visible,
)
from reporting.models import Report
from reporting.response_targets import with_due_times
from reporting.services import report_allows, report_site_team_ids

from . import actions
from .driver_fields import DriverFieldsMixin
from .filters import (
    AssigneeFilter,
    CreatedRangeFilter,
    QuickViewFilter,
    ResponseTargetFilter,
    SiteFilter,
    StateFilter,
    TeamFilter,
    titled,
)
from .forms import ReportCreateForm
from .linking import NeedsChargePointFilter, link_charge_point_view
from .report_list import ReportListMixin
from .report_page import ReportPageMixin


class ReportAdmin(ReportListMixin, ReportPageMixin, DriverFieldsMixin, BigTableAdminMixin, ScopedAdminMixin,
                  ModelAdmin):
    support_actions = {"view", "add"}
    operator_capabilities = {"view": Capability.VIEW, "add": Capability.COMMENT}

    list_display = ["id", "charge_point_col", "reason_col", "state_col", "assigned_col", "age", "occurrences_col"]
    list_display_links = ["id"]  # the charge point column links to the report itself
    list_filter = [QuickViewFilter, StateFilter, ("source", titled(_("source"))), ("reason", titled(_("reason"))),
                   ("assigned_party", titled(_("assigned to"))), AssigneeFilter,
                   ResponseTargetFilter, NeedsChargePointFilter, TeamFilter, SiteFilter, CreatedRangeFilter]
    search_fields = ["description"]  # see get_search_results
    search_limit = 1000
    search_help_text = _(
        "Charge point name, serial or OCPP id, charging site name, description, the driver's name or e-mail, "
        "or #id; shows the newest 1,000 matches of each."
    )
    list_select_related = ["charge_point__site", "charge_point__owner", "charge_point__operator", "assigned_to",
                           "site__team"]
    list_per_page = 50
    fast_rows = True  # rows written by core/admin/fast_rows.py (same markup, a fraction of the time)
    ordering = ["-created_at", "-id"]
    actions = ["assign_reports", "resolve_reports", "reopen_reports"]
    autocomplete_fields = ["charge_point"]
    change_form_template = "admin/reporting/report/change_form.html"
    change_list_template = "admin/reporting/report/change_list.html"
    list_before_template = "admin/reporting/report/_quick_views.html"  # the quick views, above the search
    inlines = []  # the notifications app adds the report's e-mails

    # The report page shows its header, tabs and evidence from its own
    # template (change_form.html); the only fields Django renders are the
    # drivers' filings and files, under the Conversation tab.
    fieldsets = [
        (_("Reported by"), {"fields": ["reporter_display", "reporter_contact", "reporter_count", "drivers_display",
                                       "attachments_display"]}),
    ]
    readonly_fields = ["reporter_display", "reporter_contact", "reporter_count", "drivers_display",
                       "attachments_display"]
    view_on_site = False

    def teams_of(self, obj):
        if obj.charge_point_id is None and obj.site_id is not None:
            return report_site_team_ids(site_id=obj.site_id)
        if obj.charge_point_id is None:
            return set()
        return {obj.charge_point.owner_id, obj.charge_point.operator_id}

    def get_queryset(self, request):
        # The response-time targets' due times: subqueries on the small
        # targets table, so the "time left" column costs no query per row.
        # A page and the paginator's count are read one team range at a
        # time (ReportQuerySet.by_ranges).
        return with_due_times(super().get_queryset(request).select_related(*self.list_select_related)).by_ranges()

    # --- filing a report: through the service ---

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        user = request.user
        sources = [Source.USER, Source.SUPPORT] if self.on_support_site() else [Source.USER]
        kwargs["form"] = type("ReportCreateForm", (ReportCreateForm,), {"actor": user, "sources": sources})
        kwargs["fields"] = ReportCreateForm.Meta.fields
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ReportCreateForm.Meta.fields})]
        if not driver_contact_visible(actor=request.user, report=obj):
            return [(_("Reported by"), {"fields": ["reporter_hidden", "reporter_count", "attachments_display"]})]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [*self.readonly_fields, "reporter_hidden"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied  # the page is read-only; changes go through the actions
        data = form.cleaned_data
        report = services.report_create(
            charge_point=data["charge_point"], source=data["source"], reason=data["reason"],
            description=data.get("description", ""), by=request.user,
            reporter_name=data.get("reporter_name", ""), reporter_email=data.get("reporter_email", ""),
            reporter_phone=data.get("reporter_phone", ""),
        )
        obj.pk = obj.id = report.pk

    def save_related(self, request, form, formsets, change):
        pass  # the service wrote everything

    def response_add(self, request, obj, post_url_continue=None):
        """After filing, the new report's page (where the next step is), not the list."""
        if "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"Report #{obj.pk} filed.", messages.SUCCESS)
        return redirect(self._page_url(obj))

    # --- the list's actions ---

    def _may(self, request, capability, obj=None):
        if self.on_support_site():
            return is_support(request.user)
        if obj is not None:
            return report_allows(request.user, capability, obj)
        return bool(self.capable_team_ids(request, capability))

    def has_assign_permission(self, request, obj=None):
        return self._may(request, Capability.ASSIGN, obj)

    def has_resolve_permission(self, request, obj=None):
        return self._may(request, Capability.RESOLVE, obj)

    def has_comment_permission(self, request, obj=None):
        return self._may(request, Capability.COMMENT, obj)

    @admin.action(description=_("Assign report…"), permissions=["assign"])
    def assign_reports(self, request, queryset):
        return actions.bulk_action(self, request, queryset, "assign")

    @admin.action(description=_("Resolve…"), permissions=["resolve"])
    def resolve_reports(self, request, queryset):
        return actions.bulk_action(self, request, queryset, "resolve")

    @admin.action(description=_("Reopen…"), permissions=["resolve"])
    def reopen_reports(self, request, queryset):
        return actions.bulk_action(self, request, queryset, "reopen")

    # --- the report page's buttons ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("export.csv", view(self.export_view), name="reporting_report_export"),
            path("<int:report_id>/assign/", view(self.transition_view), {"name": "assign"},
                 name="reporting_report_assign"),
            path("<int:report_id>/resolve/", view(self.transition_view), {"name": "resolve"},
                 name="reporting_report_resolve"),
            path("<int:report_id>/reopen/", view(self.transition_view), {"name": "reopen"},
                 name="reporting_report_reopen"),
            path("<int:report_id>/comment/", view(self.comment_view), name="reporting_report_comment"),
            path("<int:report_id>/message/", view(self.message_view), name="reporting_report_message"),
            path("<int:report_id>/link-charge-point/", view(lambda request, report_id: link_charge_point_view(
                self, request, report_id)), name="reporting_report_link_charge_point"),
            *super().get_urls(),
        ]


support_site.register(Report, ReportAdmin)
operator_site.register(Report, ReportAdmin)
