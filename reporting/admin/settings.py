"""Reports → Settings: per team, who is notified of new reports and whether
they get e-mail updates. A team's admins (and owners) edit their team's;
viewers and installers see them read-only; support edits every team's.

Every team has a row (``team_create`` makes it with the defaults), and
saving goes through ``reporting.settings_services.report_settings_update``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.admin_refusals import ServiceRefusalAdminMixin
from accounts.admin_sites import operator_site, support_site
from accounts.admin_tenancy import TeamOwnedAdminMixin
from accounts.permissions import Capability
from core.admin.base import ModelAdmin, TabularInline
from core.errors import DomainError
from reporting.models import ReportContact, ReportSettings
from reporting.settings_services import report_contacts_validate, report_settings_update


def _contacts(forms_) -> list[dict]:
    contacts = []
    for contact_form in forms_:
        data = getattr(contact_form, "cleaned_data", None) or {}
        if not data.get("email") or data.get("DELETE"):
            continue
        contacts.append({key: data.get(key) for key in ("name", "email", "phone", "is_active")})
        contacts[-1]["phone"] = contacts[-1]["phone"] or ""
    return contacts


class ContactFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        try:  # the service's rule, shown on the list before anything is saved
            report_contacts_validate(contacts=_contacts(self.forms))
        except DomainError as error:
            raise forms.ValidationError(error.message) from None


class ReportContactInline(TabularInline):
    model = ReportContact
    formset = ContactFormSet
    fields = ["name", "email", "phone", "is_active"]
    extra = 1
    verbose_name = _("contact")
    verbose_name_plural = _("contacts notified of new reports")

    # The page decides: whoever may change the settings may change the contacts.
    @property
    def parent_admin(self):
        return self.admin_site._registry[ReportSettings]

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return obj is not None and self.parent_admin.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return obj is not None and self.parent_admin.has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and self.parent_admin.has_change_permission(request, obj)


class ReportSettingsAdmin(ServiceRefusalAdminMixin, TeamOwnedAdminMixin, ModelAdmin):
    menu_label = _("Settings")
    support_actions = {"view", "change"}
    operator_capabilities = {"view": Capability.VIEW, "change": Capability.EDIT_ASSETS}

    list_display = ["team", "email_updates", "delivery", "active_contacts", "updated_at"]
    list_filter = ["email_updates", "delivery"]
    search_fields = ["team__name", "contacts__email", "contacts__name"]
    list_select_related = ["team"]
    ordering = ["team__name"]
    fields = ["team", "email_updates", "delivery", "digest_minutes", "burst_threshold", "driver_contact_days",
              "self_heal", "self_heal_minutes", "route_by_error_hint"]
    readonly_fields = ["team"]
    inlines = [ReportContactInline]
    change_form_template = "admin/reporting/reportsettings/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _active_contacts=Count("contacts", filter=Q(contacts__is_active=True))
        )

    @admin.display(description="contacts notified", ordering="_active_contacts")
    def active_contacts(self, obj):
        return obj._active_contacts

    def changelist_view(self, request, extra_context=None):
        if self.has_module_permission(request):
            if not request.GET and not self.on_support_site():
                mine = list(self.get_queryset(request).values_list("pk", flat=True)[:2])
                if len(mine) == 1:  # one team: straight to its settings
                    return redirect(reverse(f"{self.admin_site.name}:reporting_reportsettings_change",
                                            args=[mine[0]]))
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        pass  # saved with the contacts in save_related, by the service

    def save_related(self, request, form, formsets, change):
        contacts = [contact for formset in formsets for contact in _contacts(formset.forms)]
        report_settings_update(
            team=form.instance.team, email_updates=form.cleaned_data["email_updates"], contacts=contacts,
            by=request.user, driver_contact_days=form.cleaned_data.get("driver_contact_days"),
            self_heal=form.cleaned_data.get("self_heal"),
            self_heal_minutes=form.cleaned_data.get("self_heal_minutes"),
            delivery=form.cleaned_data["delivery"],
            digest_minutes=form.cleaned_data["digest_minutes"], burst_threshold=form.cleaned_data["burst_threshold"],
            route_by_error_hint=form.cleaned_data.get("route_by_error_hint"),
        )

    def construct_change_message(self, request, form, formsets, add=False):
        # The service replaced the contacts; the formsets saved nothing themselves.
        return [{"changed": {"fields": ["e-mail updates", "delivery", "drivers' contact details", "self-healing",
                                        "contacts"]}}]

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if "_save" in request.POST and not self.on_support_site():
            # One team's settings: stay on the page that was just updated.
            return redirect(request.path)
        return response


support_site.register(ReportSettings, ReportSettingsAdmin)
operator_site.register(ReportSettings, ReportSettingsAdmin)
