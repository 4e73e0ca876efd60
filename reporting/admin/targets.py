"""Reports → Response-time targets. Support edits the defaults (no team) and
any team's targets in /admin/; in /operator/ a team's members see their
team's rows and its admins add, change and delete them, as on the report
settings page. Saving goes through ``reporting.response_target_services``,
which checks the same rules and validates the escalation."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin_refusals import ServiceRefusalAdminMixin
from accounts.admin_sites import operator_site, support_site
from accounts.admin_tenancy import TeamOwnedAdminMixin
from accounts.permissions import Capability
from core.admin.base import ModelAdmin
from core.errors import DomainError
from reporting.response_target_services import (
    response_target_delete,
    response_target_save,
    response_target_validate,
)
from reporting.response_targets import format_duration, response_targets_effective
from reporting.settings_models import ResponseTarget


class ResponseTargetForm(forms.ModelForm):
    class Meta:
        model = ResponseTarget
        fields = ["team", "source", "time_to_assign", "time_to_resolve", "escalation", "escalate_to"]

    def clean(self):
        data = super().clean()
        probe = ResponseTarget(**{name: data.get(name) for name in ("time_to_assign", "time_to_resolve")},
                               escalation=data.get("escalation") or "none", escalate_to=data.get("escalate_to") or "")
        try:  # the service's rule, shown on the form before anything is saved
            response_target_validate(probe)
        except DomainError as error:
            raise forms.ValidationError(error.message) from None
        return data


class ResponseTargetAdmin(ServiceRefusalAdminMixin, TeamOwnedAdminMixin, ModelAdmin):
    menu_label = _("Response-time targets")
    form = ResponseTargetForm
    support_actions = {"view", "add", "change", "delete"}
    operator_capabilities = {
        "view": Capability.VIEW, "add": Capability.EDIT_ASSETS,
        "change": Capability.EDIT_ASSETS, "delete": Capability.EDIT_ASSETS,
    }
    list_display = ["team_col", "source", "assign_col", "resolve_col", "escalation", "escalate_to", "updated_at"]
    list_filter = ["source", "escalation"]
    search_fields = ["team__name"]
    list_select_related = ["team"]
    readonly_fields = ["updated_at"]

    @admin.display(description="team", ordering="team__name")
    def team_col(self, obj):
        return obj.team.name if obj.team_id else "Default (every team without its own)"

    @admin.display(description="time to assign")
    def assign_col(self, obj):
        return format_duration(obj.time_to_assign) if obj.time_to_assign else "—"

    @admin.display(description="time to resolve")
    def resolve_col(self, obj):
        return format_duration(obj.time_to_resolve) if obj.time_to_resolve else "—"

    def get_readonly_fields(self, request, obj=None):
        # A row's team and source are its identity: chosen when adding.
        return [*self.readonly_fields, "team", "source"] if obj is not None else self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None and "team" in form.base_fields:
            field = form.base_fields["team"]
            if self.on_support_site():
                field.help_text = "Empty: support's default for every team without its own row."
            else:  # a team's admin adds rows for the teams they administer
                field.required = True
                field.queryset = field.queryset.filter(pk__in=self.capable_team_ids(request, Capability.EDIT_ASSETS))
        return form

    def changelist_view(self, request, extra_context=None):
        defaults = response_targets_effective(team_id=None)
        shown = "; ".join(
            f"{source}: assign {format_duration(d['time_to_assign']) if d['time_to_assign'] else '—'}, "
            f"resolve {format_duration(d['time_to_resolve']) if d['time_to_resolve'] else '—'}"
            for source, d in defaults.items()
        )
        extra_context = {**(extra_context or {}), "subtitle": f"Support's defaults — {shown}"}
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        response_target_save(target=obj, by=request.user)

    def delete_model(self, request, obj):
        response_target_delete(target=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for target in queryset:
            response_target_delete(target=target, by=request.user)


support_site.register(ResponseTarget, ResponseTargetAdmin)
operator_site.register(ResponseTarget, ResponseTargetAdmin)
