"""The two back-office sites: /admin/ for support staff, /operator/ for
members of teams. Both are Django's admin in django-unfold's theme (the
ModelAdmin base classes come from ``core.admin.base``); every app's admin.py
registers its ModelAdmins on the site(s) they belong to.

To add a model to either site, subclass ``accounts.admin_tenancy.ScopedAdminMixin``
(permissions from ``accounts.permissions`` and tenant scoping through
``for_user``; its docstring shows a complete example) and register the class
on ``support_site`` and/or ``operator_site``.

Each site's index shows a dashboard that a higher app plugs in through
``dashboard_provider`` (the reports dashboard, set by
``reporting/admin/dashboard.py``): this module knows no app above accounts.
The sidebar (``sidebar_navigation``) lists the models the user may open, app by
app, after the dashboard and the entries a higher app pins to the top
(``pin_to_sidebar``: the reports list).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import NoReverseMatch, path, reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.sites import UnfoldAdminSite
from unfold.widgets import BASE_INPUT_CLASSES

from accounts.permissions import is_support
from core.errors import DomainError


class DashboardIndexMixin:
    """The admin index shows the reports dashboard; the sidebar lists what
    the user may open, pinned entries first."""

    index_template = "admin/dashboard_index.html"
    site_url = None  # no public site to "view": drop the header's link
    # ``provider(request, site=...) -> dict``; set by the app that owns the figures.
    dashboard_provider = None

    def __init__(self, name="admin"):
        super().__init__(name)
        # (model label, icon) of the sidebar's first entries, in order.
        self.sidebar_pins: list[tuple[str, str]] = []

    def pin_to_sidebar(self, model_label: str, *, icon: str) -> None:
        """Show ``app_label.ModelName``'s list first in the sidebar (with a
        Material Symbols ``icon``), right under the dashboard."""
        self.sidebar_pins.append((model_label.lower(), icon))

    def each_context(self, request):
        context = super().each_context(request)
        # Unfold reads titles and the "View site" link from the UNFOLD
        # setting, shared by both sites: each site keeps its own.
        context.update(site_title=self.site_title, site_header=self.site_header, site_subheader=self.site_title,
                       site_url=self.site_url)
        return context

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
        # Back to the page the switch was used on (the theme's form names none).
        target = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
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

    def sidebar_groups(self, request) -> list[dict]:
        """Unfold's sidebar navigation: the dashboard and the pinned lists,
        then one group per app. Every entry carries a permission callback
        that asks its ModelAdmin (the same rule as the app list), so an
        entry the user may not open is not shown."""
        pins = dict(self.sidebar_pins)
        first = [{"title": _("Dashboard"), "icon": "dashboard", "link": reverse(f"{self.name}:index")}]
        groups = []
        for models in self._models_by_app():
            items = []
            for model, model_admin in models:
                item = self._sidebar_item(model, model_admin, pins.get(model._meta.label_lower))
                if item is None:
                    continue
                if model._meta.label_lower in pins:
                    first.append(item)
                else:
                    items.append(item)
            if items:
                app_config = models[0][0]._meta.app_config
                groups.append({"title": app_config.verbose_name, "items": items, "collapsible": False})
        order = [label for label, _icon in self.sidebar_pins]
        first[1:] = sorted(first[1:], key=lambda item: order.index(item["model_label"]))
        return [{"items": first}, *groups]

    def _models_by_app(self):
        by_app: dict[str, list] = {}
        for model, model_admin in self._registry.items():
            by_app.setdefault(model._meta.app_label, []).append((model, model_admin))
        apps = sorted(by_app.items(), key=lambda pair: str(pair[1][0][0]._meta.app_config.verbose_name).lower())
        return [sorted(models, key=lambda pair: str(self._menu_name(*pair)).lower()) for _label, models in apps]

    @staticmethod
    def _menu_name(model, model_admin):
        return getattr(model_admin, "menu_label", None) or capfirst(model._meta.verbose_name_plural)

    def _sidebar_item(self, model, model_admin, icon):
        opts = model._meta
        try:
            link = reverse(f"{self.name}:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            return None

        def permission(request):
            # Django's app list rule: module permission and any of view/change/add.
            return bool(model_admin.has_module_permission(request)
                        and any(model_admin.get_model_perms(request).values()))

        return {
            "title": self._menu_name(model, model_admin),
            "icon": icon or getattr(model_admin, "menu_icon", None),
            "link": link,
            "permission": permission,
            "model_label": opts.label_lower,
        }


def site_for_request(request):
    """The back-office site serving ``request`` (by its URL namespace), or None."""
    match = getattr(request, "resolver_match", None)
    return _SITES.get(match.namespace if match else None)


def language_action(request) -> str:
    """UNFOLD["LANGUAGES"]["action"]: the language switch posts to the
    language view of the site serving the request."""
    site = site_for_request(request) or support_site
    return reverse(f"{site.name}:language")


def sidebar_navigation(request) -> list[dict]:
    """UNFOLD["SIDEBAR"]["navigation"]: the sidebar of the site serving the request."""
    site = site_for_request(request)
    if site is None or not site.has_permission(request):
        return []
    return site.sidebar_groups(request)


class SupportAdminSite(DashboardIndexMixin, UnfoldAdminSite):
    site_header = _("Charge point reports")
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

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # Unfold's look for the two inputs (its own form is the staff-only admin one).
        for name in ("username", "password"):
            self.fields[name].widget.attrs["class"] = " ".join(BASE_INPUT_CLASSES)
        self.fields["username"].widget.attrs["autofocus"] = ""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if is_support(user) or not user.roles_by_team():
            raise forms.ValidationError(self.error_messages["not_member"], code="not_member")


class OperatorAdminSite(DashboardIndexMixin, UnfoldAdminSite):
    login_form = OperatorAuthenticationForm
    site_header = _("Charge point reports")
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
_SITES = {site.name: site for site in (support_site, operator_site)}
