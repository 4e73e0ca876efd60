"""Health checks in /admin/ (support staff only): each team's overrides of
the check thresholds, and the beat schedules (django-celery-beat) that run
the sweep, so support can change how often it runs without a deploy."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django_celery_beat.admin import (
    CrontabScheduleAdmin,
    IntervalScheduleAdmin,
    PeriodicTaskAdmin,
    PeriodicTaskInline,
)
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from accounts.admin_refusals import ServiceRefusalAdminMixin
from accounts.admin_sites import support_site
from accounts.admin_tenancy import ScopedAdminMixin
from core.admin.base import ModelAdmin, TabularInline
from reporting.catalogue import SYSTEM_REASONS, Reason
from reporting.models import HealthCheckSettings
from reporting.settings_services import health_check_settings_delete, health_check_settings_save

SUPPORT_ONLY = {"view", "add", "change", "delete"}

_FIELDS = ("enabled", "minutes", "count", "window_minutes", "dbm", "min_readings")


def _defaults_text(reason: str) -> str:
    values = settings.HEALTH_CHECKS[reason]
    shown = ", ".join(f"{name.replace('_', ' ')} {values[name]}" for name in _FIELDS if name in values)
    return f"Default: {shown}. Leave a field empty to use the default."


class HealthCheckSettingsAdmin(ServiceRefusalAdminMixin, ScopedAdminMixin, ModelAdmin):
    support_actions = SUPPORT_ONLY
    list_display = ["team", "auto_resolve", "overrides"]
    list_select_related = ["team"]
    search_fields = ["team__name"]
    readonly_fields = ["updated_at"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {
                "fields": ["team", "auto_resolve", "updated_at"],
                "description": "These apply to the charge points the team operates. Auto-resolve default: "
                f"{'on' if settings.HEALTH_CHECKS['auto_resolve'] else 'off'}.",
            })
        ]
        for reason in SYSTEM_REASONS:
            names = [f"{reason}_{name}" for name in _FIELDS if hasattr(HealthCheckSettings, f"{reason}_{name}")]
            fieldsets.append((Reason(reason).label, {"fields": names, "description": _defaults_text(reason)}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        # The team is the row's identity: pick it when adding, not later.
        return [*self.readonly_fields, "team"] if obj is not None else self.readonly_fields

    @admin.display(description="overrides")
    def overrides(self, obj: HealthCheckSettings) -> str:
        changed = []
        for reason in SYSTEM_REASONS:
            for name in _FIELDS:
                value = getattr(obj, f"{reason}_{name}", None)
                if value is not None:
                    changed.append(f"{Reason(reason).label.lower()}: {name.replace('_', ' ')} {value}")
        return "; ".join(changed) or "—"

    def teams_of(self, obj) -> set[int]:
        return {obj.team_id}

    def scope_queryset(self, request, queryset):
        return queryset if self.on_support_site() and self.allows(request, "view") else queryset.none()

    def save_model(self, request, obj, form, change):
        health_check_settings_save(settings=obj, by=request.user)

    def delete_model(self, request, obj):
        health_check_settings_delete(settings=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for settings_row in queryset:
            health_check_settings_delete(settings=settings_row, by=request.user)


class SupportOnlyMixin(ScopedAdminMixin):
    """Celery beat's schedules: support staff on /admin/ only."""

    support_actions = SUPPORT_ONLY

    def scope_queryset(self, request, queryset):
        return queryset if self.on_support_site() and self.allows(request, "view") else queryset.none()


class ThemedPeriodicTaskInline(PeriodicTaskInline, TabularInline):
    """The tasks that use a schedule, in the theme's look."""


class SupportPeriodicTaskAdmin(SupportOnlyMixin, PeriodicTaskAdmin, ModelAdmin):
    pass


class SupportIntervalScheduleAdmin(SupportOnlyMixin, IntervalScheduleAdmin, ModelAdmin):
    inlines = [ThemedPeriodicTaskInline]


class SupportCrontabScheduleAdmin(SupportOnlyMixin, CrontabScheduleAdmin, ModelAdmin):
    inlines = [ThemedPeriodicTaskInline]


support_site.register(HealthCheckSettings, HealthCheckSettingsAdmin)
support_site.register(PeriodicTask, SupportPeriodicTaskAdmin)
support_site.register(IntervalSchedule, SupportIntervalScheduleAdmin)
support_site.register(CrontabSchedule, SupportCrontabScheduleAdmin)
