"""Maintenance windows on both back-offices: support manages every team's in
/admin/; a team's admins manage their own in /operator/ (viewers see them).
A window's page lists what the health checks would have filed during it."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils import timezone

from accounts.admin_refusals import ServiceRefusalAdminMixin
from accounts.admin_sites import operator_site, support_site
from accounts.admin_tenancy import ScopedAdminMixin
from accounts.models import Team
from accounts.permissions import Capability
from core.admin.base import ModelAdmin, TabularInline
from core.admin.filters import ScopedRelatedFilter
from core.admin.readonly import ReadOnlyInlineMixin
from core.errors import Invalid
from reporting.maintenance import (
    EDITABLE,
    maintenance_window_create,
    maintenance_window_delete,
    maintenance_window_is_active,
    maintenance_window_update,
    maintenance_window_validate,
)
from reporting.models import MaintenanceWindow, SilencedDetection


class WindowTeamFilter(ScopedRelatedFilter):
    title = "team"
    parameter_name = "team"
    related_model = Team
    lookup = "team_id"


class MaintenanceWindowForm(forms.ModelForm):
    class Meta:
        model = MaintenanceWindow
        fields = ["team", "charge_point", "site", "reason", "starts_at", "ends_at", "weekdays", "local_start",
                  "duration_minutes", "time_zone"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        # The service's own rules, shown on the field they are about.
        probe = MaintenanceWindow(**{name: cleaned.get(name) for name in self.Meta.fields if name in cleaned})
        if self.instance.pk:
            probe.team_id = self.instance.team_id
        try:
            maintenance_window_validate(probe)
        except Invalid as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        else:
            cleaned["weekdays"] = probe.weekdays
        return cleaned


class SilencedDetectionInline(ReadOnlyInlineMixin, TabularInline):
    """Would have filed: written by the health sweep, read here."""

    model = SilencedDetection
    verbose_name = "would have filed"
    verbose_name_plural = "would have filed (detected during the window, not filed)"
    extra = 0
    fields = ["charge_point", "reason", "first_seen_at", "last_seen_at", "detections"]
    readonly_fields = fields


class MaintenanceWindowAdmin(ServiceRefusalAdminMixin, ScopedAdminMixin, ModelAdmin):
    support_actions = {"view", "add", "change", "delete"}
    operator_capabilities = {
        "view": Capability.VIEW, "add": Capability.EDIT_ASSETS, "change": Capability.EDIT_ASSETS,
        "delete": Capability.EDIT_ASSETS,
    }
    form = MaintenanceWindowForm
    inlines = [SilencedDetectionInline]
    list_display = ["target", "reason", "starts_at", "ends_at", "recurrence", "active_now", "would_have_filed"]
    list_select_related = ["team", "site", "charge_point"]
    list_filter = [WindowTeamFilter]
    search_fields = ["reason", "site__name", "charge_point__name", "team__name"]
    raw_id_fields = ["charge_point", "site"]
    readonly_fields = ["created_by", "created_at"]
    date_hierarchy = "starts_at"

    def teams_of(self, obj) -> set[int]:
        return {obj.team_id}

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "team"] if obj is not None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "team" and not self.on_support_site():
            ids = self.capable_team_ids(request, Capability.EDIT_ASSETS)
            kwargs["queryset"] = Team.objects.filter(pk__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="target")
    def target(self, obj: MaintenanceWindow) -> str:
        return obj.target_label()

    @admin.display(description="weekly")
    def recurrence(self, obj: MaintenanceWindow) -> str:
        if not obj.is_weekly:
            return "—"
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        days = ", ".join(names[d] for d in obj.weekday_list())
        return f"{days} from {obj.local_start:%H:%M} ({obj.time_zone}) for {obj.duration_minutes} min"

    @admin.display(description="active now", boolean=True)
    def active_now(self, obj: MaintenanceWindow) -> bool:
        return maintenance_window_is_active(obj, timezone.now())

    @admin.display(description="would have filed")
    def would_have_filed(self, obj: MaintenanceWindow) -> int:
        return obj.silenced.count()

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
        if change:
            maintenance_window_update(window=obj, by=request.user, **values)
        else:
            created = maintenance_window_create(by=request.user, team=form.cleaned_data["team"], **values)
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        # Nothing to save: the window has no many-to-many fields and its
        # inline is read-only. The change message reads these.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        maintenance_window_delete(window=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for window in queryset:
            maintenance_window_delete(window=window, by=request.user)


support_site.register(MaintenanceWindow, MaintenanceWindowAdmin)
operator_site.register(MaintenanceWindow, MaintenanceWindowAdmin)
