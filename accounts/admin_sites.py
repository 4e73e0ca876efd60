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
from django.contrib import admin, messages
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from accounts.permissions import is_support
from core.errors import DomainError


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

    def get_urls(self):
        return [path("language/", self.admin_view(self.language_view), name="language"), *super().get_urls()]

    def language_view(self, request):
        """The header's language switch: saves the user's language and goes
        back to the page it was used on, now in that language."""
        from accounts.preferences import user_set_language

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            target = reverse(f"{self.name}:index")
        try:
            user_set_language(user=request.user, language=request.POST.get("language", ""), by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            translation.activate(request.user.language or translation.get_language())
        return redirect(target)

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
    site_header = _("Charge point reports — Support")
    site_title = _("Support back-office")
    index_title = _("Dashboard")

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and getattr(user, "is_support", False))


class OperatorAuthenticationForm(AuthenticationForm):
    """Django's admin login wants a staff account; operators are members of
    teams, not staff. Support staff are sent to /admin/."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_member": _("This account is not a member of any team. Support staff log in at /admin/."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if is_support(user) or not user.roles_by_team():
            raise forms.ValidationError(self.error_messages["not_member"], code="not_member")


class OperatorAdminSite(DashboardIndexMixin, admin.AdminSite):
    login_form = OperatorAuthenticationForm
    site_header = _("Charge point reports — Operator")
    site_title = _("Operator back-office")
    index_title = _("Dashboard")

    def has_permission(self, request) -> bool:
        user = request.user
        # Support staff work in /admin/, where they see every team.
        return bool(
            user.is_active and user.is_authenticated and not is_support(user) and user.roles_by_team()
        )


support_site = SupportAdminSite(name="admin")
operator_site = OperatorAdminSite(name="operator")
