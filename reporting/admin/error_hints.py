"""Vendor error codes in /admin/ (support only): a vendor's own error code
read as an entry of the error-hint catalogue (docs/error-hints.md)."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_refusals import ServiceRefusalAdminMixin
from accounts.admin_sites import support_site
from accounts.admin_tenancy import ScopedAdminMixin
from core.admin.base import ModelAdmin
from reporting.error_hint_services import vendor_error_code_delete, vendor_error_code_save
from reporting.error_hints import CATALOGUE
from reporting.models import VendorErrorCode


class CatalogueSourceFilter(admin.SimpleListFilter):
    title = "catalogue"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return [("ocpp", "OCPP 1.6"), ("chargex", "ChargeX MREC")]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        source = "OCPP 1.6" if self.value() == "ocpp" else "ChargeX MREC"
        return queryset.filter(code__in=[code for code, entry in CATALOGUE.items() if entry.source == source])


class VendorErrorCodeAdmin(ServiceRefusalAdminMixin, ScopedAdminMixin, ModelAdmin):
    support_actions = {"view", "add", "change", "delete"}
    list_display = ["vendor", "model_or_any", "vendor_error_code", "code", "party", "updated_at"]
    list_filter = ["vendor", CatalogueSourceFilter, "code"]
    search_fields = ["vendor", "model", "vendor_error_code", "code", "hint"]
    fields = ["vendor", "model", "vendor_error_code", "code", "hint", "updated_at"]
    readonly_fields = ["updated_at"]
    list_per_page = 50

    @admin.display(description="model", ordering="model")
    def model_or_any(self, obj):
        return obj.model or "any model"

    @admin.display(description="party to act")
    def party(self, obj):
        entry = CATALOGUE.get(obj.code)
        return entry.as_dict()["party_label"] if entry else "—"

    def teams_of(self, obj) -> set[int]:
        return set()

    def scope_queryset(self, request, queryset):
        return queryset if self.on_support_site() and self.allows(request, "view") else queryset.none()

    def save_model(self, request, obj, form, change):
        vendor_error_code_save(mapping=obj, by=request.user)

    def delete_model(self, request, obj):
        vendor_error_code_delete(mapping=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for mapping in queryset:
            vendor_error_code_delete(mapping=mapping, by=request.user)


support_site.register(VendorErrorCode, VendorErrorCodeAdmin)
