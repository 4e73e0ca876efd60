"""Screens that only show rows: written by services elsewhere (the sweep, the
outbox, the retention run, the audit), never by the admin's own forms."""

from __future__ import annotations


class ReadOnlyAdminMixin:
    """No add, change or delete; put it before the admin's other bases so it
    wins over a mixin that would allow them (it only takes rights away)."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInlineMixin(ReadOnlyAdminMixin):
    """An inline whose rows everyone who sees the page may read."""

    def has_view_permission(self, request, obj=None):
        return True
