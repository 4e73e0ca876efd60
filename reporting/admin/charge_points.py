"""The charge point pages with their reports: an "open reports" column on
the list and the open reports on each charge point's page. Added here, on
top of the charge point admin, because chargepoints knows nothing of reports."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import OuterRef
from django.urls import reverse

from accounts.admin_sites import operator_site, support_site
from chargepoints.admin import ChargePointAdmin
from chargepoints.models import ChargePoint
from core.admin.annotations import related_count
from reporting.catalogue import Source
from reporting.error_hint_selectors import error_hint_for_charge_point
from reporting.models import Report, ReportState
from reporting.reviews import review_author_label, review_summary

OPEN_REPORTS_SHOWN = 20


class ChargePointWithReportsAdmin(ChargePointAdmin):
    list_display = [*ChargePointAdmin.list_display, "open_reports"]

    def get_queryset(self, request):
        open_reports = Report.objects.filter(charge_point=OuterRef("pk")).exclude(state=ReportState.RESOLVED)
        return super().get_queryset(request).annotate(_open_reports=related_count(open_reports, "charge_point"))

    @admin.display(description="open reports", ordering="_open_reports")
    def open_reports(self, obj):
        return obj._open_reports

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        if str(object_id).isdigit() and self.get_queryset(request).filter(pk=int(object_id)).exists():
            extra["open_report_list"] = list(
                Report.objects.filter(charge_point_id=int(object_id)).unresolved().select_related("assigned_to")
                .order_by("-created_at")[:OPEN_REPORTS_SHOWN]
            )
            extra["report_url"] = reverse(f"{self.admin_site.name}:reporting_report_changelist")
            if self.admin_site._registry[Report].has_add_permission(request):
                # The add page offers the reasons that fit this charge point's country.
                extra["report_add_url"] = (reverse(f"{self.admin_site.name}:reporting_report_add")
                                           + f"?charge_point={int(object_id)}&source={Source.USER}")
            summary = review_summary(charge_point_id=int(object_id))
            extra["reviews"] = summary
            extra["review_rows"] = [
                {"review": review, "author": review_author_label(actor=request.user, review=review)}
                for review in summary.commented
            ]
            extra["error_hint"] = error_hint_for_charge_point(ChargePoint.objects.get(pk=int(object_id)))
        return super().change_view(request, object_id, form_url, extra)


for admin_site in (support_site, operator_site):
    admin_site.unregister(ChargePoint)
    admin_site.register(ChargePoint, ChargePointWithReportsAdmin)
