"""The audit log in both back-offices, read-only: support sees every row in
/admin/; a team's owners and admins see their own team's in /operator/."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join

from accounts.admin_sites import operator_site, support_site
from accounts.admin_tenancy import ScopedAdminMixin
from accounts.models import AuditLog, Team
from accounts.permissions import Capability
from core.admin.base import ModelAdmin
from core.admin.filters import ScopedRelatedFilter
from core.admin.pagination import BigTableAdminMixin
from core.admin.readonly import ReadOnlyAdminMixin


class AuditTeamFilter(ScopedRelatedFilter):
    title = "team"
    parameter_name = "team"
    related_model = Team
    lookup = "team_id|former_team_id"


class AuditLogAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, ScopedAdminMixin, ModelAdmin):
    support_actions = {"view"}
    operator_capabilities = {"view": Capability.VIEW_AUDIT}

    list_display = ["created_at", "actor_label", "team", "action", "object_type", "object_repr", "changed"]
    list_filter = ["action", "object_type", AuditTeamFilter]
    search_fields = ["object_repr", "actor_label", "=object_id"]
    list_select_related = ["team"]
    ordering = ["-created_at", "-id"]
    fields = ["created_at", "actor_label", "actor", "api_key", "team", "former_team", "action", "object_type",
              "object_id", "object_repr", "changes_table", "note"]
    readonly_fields = fields

    def teams_of(self, obj):
        return {obj.team_id, obj.former_team_id} - {None}


    @admin.display(description="changed")
    def changed(self, obj: AuditLog) -> str:
        return ", ".join(obj.changes) or "—"

    @admin.display(description="changes")
    def changes_table(self, obj: AuditLog) -> str:
        rows = ((name, change.get("before"), change.get("after")) for name, change in obj.changes.items())
        return format_html_join("", "<div><strong>{}</strong>: {} → {}</div>", rows) or "—"


for admin_site in (support_site, operator_site):
    admin_site.register(AuditLog, AuditLogAdmin)
