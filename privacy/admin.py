"""Support's record of erased personal data (/admin/), read-only: what kind
of data went from which report, when, and why. The values are gone."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_sites import support_site
from accounts.admin_tenancy import ScopedAdminMixin
from core.admin.pagination import BigTableAdminMixin

from .models import Erasure


@admin.register(Erasure, site=support_site)
class ErasureAdmin(BigTableAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    support_actions = {"view"}

    list_display = ["erased_at", "report_link", "scope", "reason", "what", "erased_by_label"]
    list_filter = ["scope", "reason"]
    search_fields = ["=report__id", "erased_by_label"]
    date_hierarchy = "erased_at"
    ordering = ["-erased_at", "-id"]
    fields = ["erased_at", "report_link", "scope", "reason", "what", "erased_by_label"]
    readonly_fields = fields

    def teams_of(self, obj):
        return set()

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="report", ordering="report_id")
    def report_link(self, obj: Erasure) -> str:
        url = reverse(f"{self.admin_site.name}:reporting_report_change", args=[obj.report_id])
        return format_html('<a href="{}">#{}</a>', url, obj.report_id)

    @admin.display(description="what was erased")
    def what(self, obj: Erasure) -> str:
        return obj.summary
