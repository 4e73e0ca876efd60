"""The two back-office sites: /admin/ for support staff, /operator/ for
members of teams. Both are Django's admin; every app's admin.py registers its
ModelAdmins on the site(s) they belong to.

To add a model to either site, subclass ``accounts.admin_tenancy.ScopedAdminMixin``
(permissions from ``accounts.permissions`` and tenant scoping through
``for_user``; its docstring shows a complete example) and register the class
on ``support_site`` and/or ``operator_site``.

Each site's index shows a dashboard that a higher app plugs in through
``dashboard_provider`` (the reports dashboard, set by
``reporting/admin/dashboard.py``): this module knows no app above accounts.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm

from accounts.permissions import is_support


class DashboardIndexMixin:
    """The admin index shows the reports dashboard above the app list."""

    index_template = "admin/dashboard_index.html"
    site_url = None  # no public site to "view": drop the header's link
    # ``provider(request, site=...) -> dict``; set by the app that owns the figures.
    dashboard_provider = None

    def index(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if self.dashboard_provider is not None:
            extra_context["dashboard"] = self.dashboard_provider(request, site=self)
        return super().index(request, extra_context)

    def get_app_list(self, request, app_label=None):
        """A ModelAdmin's ``menu_label`` renames its entry (Reports → Settings).

        Nobody without access to the site gets a menu (the login page asks
        for one too): ModelAdmins are only ever asked about permitted users."""
        if not self.has_permission(request):
            return []
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


class OperatorAuthenticationForm(AuthenticationForm):
    """Django's admin login wants a staff account; operators are members of
    teams, not staff. Support staff are sent to /admin/."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_member": "This account is not a member of any team. Support staff log in at /admin/.",
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if is_support(user) or not user.roles_by_team():
            raise forms.ValidationError(self.error_messages["not_member"], code="not_member")


class OperatorAdminSite(DashboardIndexMixin, admin.AdminSite):
    login_form = OperatorAuthenticationForm
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
