"""The gateway in both back-offices: the "Generate OCPP password" action on
charge points (a higher app adds to a lower app's admin), and each team's
gateway switch."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from accounts.admin_refusals import ServiceRefusalAdminMixin
from accounts.admin_sites import operator_site, support_site
from accounts.admin_tenancy import ScopedAdminMixin
from accounts.permissions import Capability
from chargepoints.admin import ChargePointAdmin
from core.admin.badges import BLUE, GREEN, ORANGE, RED, choice_badge
from core.admin.base import ModelAdmin

from .models import RemoteCommand, TeamGatewaySettings
from .services import credential_generate, gateway_settings_delete, gateway_settings_save

MAX_AT_ONCE = 100


@admin.action(description="Generate OCPP password", permissions=["change"])
def generate_ocpp_password(model_admin, request, queryset):
    """New passwords for the selected charge points, shown on this page only:
    only their hashes are kept."""
    charge_points = list(queryset.select_related("owner", "operator").order_by("name")[: MAX_AT_ONCE + 1])
    if len(charge_points) > MAX_AT_ONCE:
        model_admin.message_user(request, f"Select at most {MAX_AT_ONCE} charge points at a time.", messages.ERROR)
        return None
    rows = []
    for cp in charge_points:
        try:
            rows.append((cp, credential_generate(charge_point=cp, by=request.user)))
        except PermissionDenied as denied:
            model_admin.message_user(request, f"{cp.ocpp_id}: {denied}", messages.ERROR)
    if not rows:
        return None
    request.current_app = model_admin.admin_site.name
    response = TemplateResponse(request, "admin/gateway/ocpp_passwords.html", {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "OCPP passwords",
        "rows": rows,
        "host": request.get_host().split(":")[0],
    })
    response["Cache-Control"] = "no-store"
    return response


ChargePointAdmin.actions = [*(ChargePointAdmin.actions or ()), generate_ocpp_password]


class TeamGatewaySettingsAdmin(ServiceRefusalAdminMixin, ScopedAdminMixin, ModelAdmin):
    support_actions = {"view", "add", "change", "delete"}
    operator_capabilities = {"view": Capability.VIEW, "add": Capability.EDIT_ASSETS,
                             "change": Capability.EDIT_ASSETS}
    list_display = ["team", "connections_enabled"]
    list_select_related = ["team"]
    autocomplete_fields = ["team"]

    def teams_of(self, obj):
        return {obj.team_id}

    def save_model(self, request, obj, form, change):
        gateway_settings_save(settings=obj, by=request.user)

    def delete_model(self, request, obj):
        gateway_settings_delete(settings=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for settings in queryset:
            gateway_settings_delete(settings=settings, by=request.user)


class RemoteCommandAdmin(ScopedAdminMixin, ModelAdmin):
    """Every remote command the user's teams may see, newest first: read
    only (commands are sent from the charge point and report pages)."""

    list_display = ["requested_at", "charge_point", "summary", "status_badge", "answer_text", "requested_by_label",
                    "origin", "report_link"]
    list_filter = ["status", "action", "origin"]
    search_fields = ["charge_point__name", "charge_point__ocpp_id", "requested_by_label"]
    list_select_related = ["charge_point"]
    list_per_page = 50
    date_hierarchy = "requested_at"
    fields = ["charge_point", "action", "payload", "status", "answer", "origin", "requested_by_label", "report",
              "requested_at", "sent_at", "answered_at", "deadline_at"]
    readonly_fields = fields

    status_badge = choice_badge(RemoteCommand, "status", {
        "pending": BLUE, "sent": BLUE, "accepted": GREEN, "rejected": ORANGE, "failed": RED, "timed_out": RED})

    def teams_of(self, obj):
        return {obj.charge_point.owner_id, obj.charge_point.operator_id}

    @admin.display(description="command")
    def summary(self, obj):
        return obj.summary

    @admin.display(description="answer")
    def answer_text(self, obj):
        return obj.answer_text

    @admin.display(description="report", ordering="report_id")
    def report_link(self, obj):
        return f"#{obj.report_id}" if obj.report_id else ""


for admin_site in (support_site, operator_site):
    admin_site.register(TeamGatewaySettings, TeamGatewaySettingsAdmin)
    admin_site.register(RemoteCommand, RemoteCommandAdmin)


from .admin_commands import register as register_remote_commands  # noqa: E402

register_remote_commands()
