"""Failed logins and lockouts, for support in /admin/ only: who is locked
out (Access attempts) and every failed try (Access failures). Deleting an
access attempt, or the "Unlock" action, lets that account log in from that
address again at once."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib import admin, messages

from accounts.admin_sites import support_site
from accounts.admin_tenancy import ScopedAdminMixin
from accounts.login_throttle import login_lockouts_release
from core.admin.base import ModelAdmin


class LockoutAttemptAdmin(ScopedAdminMixin, AccessAttemptAdmin, ModelAdmin):
    support_actions = {"view", "delete"}
    operator_capabilities = {}
    actions = ["unlock", *AccessAttemptAdmin.actions]

    def scope_queryset(self, request, queryset):
        return queryset  # support only; the mixin refuses everyone else

    @admin.action(description="Unlock: forget these failed attempts", permissions=["delete"])
    def unlock(self, request, queryset):
        names = login_lockouts_release(attempts=list(queryset), by=request.user)
        self.message_user(request, f"Unlocked: {', '.join(names)}.", messages.SUCCESS)

    def delete_model(self, request, obj):
        login_lockouts_release(attempts=[obj], by=request.user)

    def delete_queryset(self, request, queryset):
        login_lockouts_release(attempts=list(queryset), by=request.user)


class LockoutFailureLogAdmin(ScopedAdminMixin, AccessFailureLogAdmin, ModelAdmin):
    support_actions = {"view"}
    operator_capabilities = {}

    def scope_queryset(self, request, queryset):
        return queryset


support_site.register(AccessAttempt, LockoutAttemptAdmin)
support_site.register(AccessFailureLog, LockoutFailureLogAdmin)
