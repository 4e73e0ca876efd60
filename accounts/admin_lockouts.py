"""Failed logins and lockouts, for support in /admin/ only: who is locked
out (Access attempts) and every failed try (Access failures). Deleting an
access attempt, or the "Unlock" action, lets that account log in from that
address again at once."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib import admin, messages

from config.admin_mixins import ScopedAdminMixin
from config.admin_sites import support_site


class LockoutAttemptAdmin(ScopedAdminMixin, AccessAttemptAdmin):
    support_actions = {"view", "delete"}
    operator_capabilities = {}
    actions = ["unlock", *AccessAttemptAdmin.actions]

    def scope_queryset(self, request, queryset):
        return queryset  # support only; the mixin refuses everyone else

    @admin.action(description="Unlock: forget these failed attempts", permissions=["delete"])
    def unlock(self, request, queryset):
        names = sorted({attempt.username or attempt.ip_address or "?" for attempt in queryset})
        queryset.delete()
        self.message_user(request, f"Unlocked: {', '.join(names)}.", messages.SUCCESS)


class LockoutFailureLogAdmin(ScopedAdminMixin, AccessFailureLogAdmin):
    support_actions = {"view"}
    operator_capabilities = {}

    def scope_queryset(self, request, queryset):
        return queryset


support_site.register(AccessAttempt, LockoutAttemptAdmin)
support_site.register(AccessFailureLog, LockoutFailureLogAdmin)
