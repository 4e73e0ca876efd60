"""What every ModelAdmin of the two back-offices shares.

How to put a model in the back-office (API keys, notifications and the
reporting admins all follow this)::

    from accounts.admin_sites import operator_site, support_site
    from accounts.admin_tenancy import ScopedAdminMixin
    from core.admin.base import ModelAdmin

    class WidgetAdmin(ScopedAdminMixin, ModelAdmin):
        # What support may do in /admin/ (every team):
        support_actions = {"view", "add", "change"}
        # What a team member may do in /operator/, by capability:
        operator_capabilities = {"view": Capability.VIEW, "change": Capability.EDIT_ASSETS}

        def teams_of(self, obj):          # the teams an object belongs to
            return {obj.team_id}

    support_site.register(Widget, WidgetAdmin)
    operator_site.register(Widget, WidgetAdmin)

The mixin then decides has_module/view/add/change/delete_permission from
``accounts.permissions`` (operators are not staff and hold no Django model
permissions), and scopes:

- the list, the change/history/delete pages and autocomplete results, through
  ``get_queryset`` -> ``Model.objects.for_user(request.user)`` (override
  ``scope_queryset`` for a model without ``for_user``);
- foreign-key and many-to-many choices in forms, through the related model's
  ``for_user`` (override ``formfield_for_foreignkey`` to narrow further);
- list filters: use ``core.admin.filters.ScopedRelatedFilter``, never a bare foreign key in
  ``list_filter`` (Django's own lists every row of the related table).

Nothing here exports data; a ModelAdmin that adds an export must build it from
``get_queryset(request)``.
"""

from __future__ import annotations

from accounts.permissions import Capability, is_support, teams_with_capability
from core.admin.filters import scoped_queryset

ACTIONS = ("view", "add", "change", "delete")


class ScopedAdminMixin:
    """Permissions and tenant scoping for both sites; see the module docstring."""

    support_actions: set[str] = {"view"}
    operator_capabilities: dict[str, Capability] = {"view": Capability.VIEW}

    # --- who may do what ---

    def on_support_site(self) -> bool:
        from accounts.admin_sites import SupportAdminSite

        return isinstance(self.admin_site, SupportAdminSite)

    def teams_of(self, obj) -> set[int]:
        """Ids of the teams an object belongs to (for per-object checks)."""
        raise NotImplementedError(f"{type(self).__name__} must say which teams an object belongs to")

    def capable_team_ids(self, request, capability: Capability) -> set[int]:
        ids = teams_with_capability(request.user, capability)
        return set() if ids is None else set(ids)

    def allows(self, request, action: str, obj=None) -> bool:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return False
        if self.on_support_site():
            return is_support(user) and action in self.support_actions
        if is_support(user):
            return False  # support staff work in /admin/
        capability = self.operator_capabilities.get(action)
        if capability is None:
            return False
        team_ids = self.capable_team_ids(request, capability)
        if obj is None:
            return bool(team_ids)
        return bool(team_ids & self.teams_of(obj))

    def has_module_permission(self, request):
        return self.allows(request, "view") or self.allows(request, "change")

    def has_view_permission(self, request, obj=None):
        return self.allows(request, "view", obj) or self.allows(request, "change", obj)

    def has_add_permission(self, request, *args):
        return self.allows(request, "add")

    def has_change_permission(self, request, obj=None):
        return self.allows(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self.allows(request, "delete", obj)

    # --- what they see ---

    def scope_queryset(self, request, queryset):
        if self.on_support_site() and is_support(request.user):
            return queryset
        if not self.has_module_permission(request):
            return queryset.none()
        for_user = getattr(queryset, "for_user", None)
        if for_user is None:
            raise NotImplementedError(f"{type(self).__name__} must override scope_queryset")
        return for_user(request.user)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            scoped = scoped_queryset(db_field.related_model, request.user)
            if scoped is not None:
                kwargs["queryset"] = scoped
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            scoped = scoped_queryset(db_field.related_model, request.user)
            if scoped is not None:
                kwargs["queryset"] = scoped
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class TeamOwnedAdminMixin(ScopedAdminMixin):
    """ScopedAdminMixin for a model that belongs to exactly one team through
    its ``team`` foreign key (memberships, report settings)."""

    def teams_of(self, obj) -> set[int]:
        return {obj.team_id}

    def scope_queryset(self, request, queryset):
        if self.on_support_site():
            return super().scope_queryset(request, queryset)
        if not self.has_module_permission(request):
            return queryset.none()
        from accounts.models import Team

        return queryset.filter(team__in=Team.objects.for_user(request.user))
