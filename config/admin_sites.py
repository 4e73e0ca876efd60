"""The two back-office sites: /admin/ for support staff, /operator/ for
members of teams. Both are Django's admin; every app's admin.py registers its
ModelAdmins on the site(s) they belong to.

To add a model to either site, subclass ``config.admin_mixins.ScopedAdminMixin``
(permissions from ``accounts.permissions`` and tenant scoping through
``for_user``; its docstring shows a complete example) and register the class
on ``support_site`` and/or ``operator_site``.

Each site's index is the reports dashboard (``reporting/admin/dashboard.py``).
"""

from django.contrib import admin

from accounts.permissions import is_support


class DashboardIndexMixin:
    """The admin index shows the reports dashboard above the app list."""

    index_template = "admin/dashboard_index.html"

    def index(self, request, extra_context=None):
        from reporting.admin.dashboard import dashboard_context

        extra_context = {**(extra_context or {}), "dashboard": dashboard_context(request, site=self)}
        return super().index(request, extra_context)

    def get_app_list(self, request, app_label=None):
        """A ModelAdmin's ``menu_label`` renames its entry (Reports → Settings)."""
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            for entry in app["models"]:
                label = getattr(self._registry.get(entry["model"]), "menu_label", None)
                if label:
                    entry["name"] = label
        return app_list


class SupportAdminSite(DashboardIndexMixin, admin.AdminSite):
    site_header = "Charge point reports — Support"
    site_title = "Support back-office"
    index_title = "Dashboard"

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and getattr(user, "is_support", False))


class OperatorAdminSite(DashboardIndexMixin, admin.AdminSite):
    site_header = "Charge point reports — Operator"
    site_title = "Operator back-office"
    index_title = "Dashboard"

    def has_permission(self, request) -> bool:
        user = request.user
        # Support staff work in /admin/, where they see every team.
        return bool(
            user.is_active and user.is_authenticated and not is_support(user) and user.roles_by_team()
        )


support_site = SupportAdminSite(name="admin")
operator_site = OperatorAdminSite(name="operator")
