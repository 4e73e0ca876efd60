"""The two back-office sites: /admin/ for support staff, /operator/ for
members of teams. Both are Django's admin; every app's admin.py registers its
ModelAdmins on the site(s) they belong to."""

from django.contrib import admin


class SupportAdminSite(admin.AdminSite):
    site_header = "Charge point reports — Support"
    site_title = "Support back-office"
    index_title = "Dashboard"

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and getattr(user, "is_support", False))


class OperatorAdminSite(admin.AdminSite):
    site_header = "Charge point reports — Operator"
    site_title = "Operator back-office"
    index_title = "Dashboard"

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(
            user.is_active and user.is_authenticated and user.roles_by_team()
        )


support_site = SupportAdminSite(name="admin")
operator_site = OperatorAdminSite(name="operator")
