"""Sites and charge points in both back-offices.

Support sees and edits every team's; a team member sees the charge points
their teams own or operate (and the sites holding them), and a team admin
registers and edits them. The live state and telemetry are read-only here:
the telemetry ingest sets them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import OuterRef
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from accounts.admin import TeamAdmin
from accounts.admin_refusals import ServiceRefusalAdminMixin
from accounts.admin_sites import operator_site, support_site
from accounts.admin_tenancy import ScopedAdminMixin
from accounts.models import Team
from accounts.permissions import Capability, is_support, teams_with_capability
from chargepoints.assets import (
    CHARGE_POINT_FIELDS,
    SITE_FIELDS,
    charge_point_create,
    charge_point_delete,
    charge_point_update,
    site_create,
    site_delete,
    site_update,
)
from chargepoints.models import ChargePoint, Site
from chargepoints.qr import public_report_url, qr_png, qr_png_data_uri
from chargepoints.selectors import telemetry_recent
from core.admin.annotations import related_count
from core.admin.badges import BLUE, GREEN, GREY, ORANGE, RED, choice_badge
from core.admin.base import ModelAdmin
from core.admin.filters import ScopedRelatedFilter
from core.admin.pagination import BigTableAdminMixin

_count = related_count



class TeamOwnsOrOperatesFilter(ScopedRelatedFilter):
    title = "team"
    parameter_name = "team"
    related_model = Team
    lookup = "owner_id|operator_id"


class SiteOfChargePointFilter(ScopedRelatedFilter):
    title = "site"
    parameter_name = "site"
    related_model = Site
    lookup = "site_id"


class SiteTeamFilter(ScopedRelatedFilter):
    title = "team"
    parameter_name = "team"
    related_model = Team
    lookup = "team_id"


def _editable_teams(user):
    ids = teams_with_capability(user, Capability.EDIT_ASSETS)
    return Team.objects.all() if ids is None else Team.objects.filter(pk__in=ids)


class ChargePointForm(forms.ModelForm):
    """Shapes the input only; chargepoints.assets decides who may do what."""

    actor = None

    class Meta:
        model = ChargePoint
        fields = ["name", "site", "owner", "operator", "serial_number", "ocpp_id", "vendor", "model",
                  "firmware_version", "connectivity"]


def _changes(form, fields) -> dict:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in fields}


# A charge point's state as a coloured label, on the list and its page.
STATE_COLOURS = {"available": GREEN, "busy": BLUE, "error": RED, "disconnected": ORANGE, "passive": GREY,
                 "unknown": GREY}

LIVE_FIELDS = ["state", "state_since", "error_code", "vendor_error_code", "last_heartbeat_at",
               "wifi_signal_dbm", "wifi_signal_at", "cellular_signal_dbm", "cellular_signal_at", "created_at"]


class ChargePointAdmin(ServiceRefusalAdminMixin, BigTableAdminMixin, ScopedAdminMixin, ModelAdmin):
    support_actions = {"view", "add", "change", "delete"}
    operator_capabilities = {"view": Capability.VIEW, "add": Capability.EDIT_ASSETS,
                             "change": Capability.EDIT_ASSETS}

    form = ChargePointForm
    list_display = ["name", "ocpp_id", "serial_number", "site", "owner", "operator", "state_badge", "state_since",
                    "last_heartbeat_at", "wifi_signal_dbm", "cellular_signal_dbm"]
    list_filter = ["state", "connectivity", TeamOwnsOrOperatesFilter, SiteOfChargePointFilter]
    search_fields = ["name", "ocpp_id", "serial_number", "site__name", "vendor", "model", "=public_code"]
    list_select_related = ["site", "owner", "operator"]
    list_per_page = 50
    ordering = ["name"]
    change_form_template = "admin/chargepoints/chargepoint/change_form.html"
    autocomplete_fields = ["site", "owner", "operator"]
    actions = ["print_qr_stickers"]
    state_badge = choice_badge(ChargePoint, "state", STATE_COLOURS)
    fieldsets = [
        ("Identity", {"fields": ["name", "site", "owner", "operator", "serial_number", "ocpp_id", "vendor",
                                 "model", "firmware_version", "connectivity"]}),
        ("Live state (from telemetry)", {"fields": LIVE_FIELDS}),
    ]

    def teams_of(self, obj):
        return {obj.owner_id, obj.operator_id}

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self.on_support_site():
            # Moving a charge point to other teams is support's job.
            return ["owner", "operator", *LIVE_FIELDS]
        return LIVE_FIELDS

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = type("ChargePointForm", (ChargePointForm,), {"actor": request.user})
        return super().get_form(request, obj, change=change, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site" and not is_support(request.user):
            kwargs["queryset"] = Site.objects.for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            saved = charge_point_update(charge_point=obj, by=request.user, **_changes(form, CHARGE_POINT_FIELDS))
        else:
            data = {name: form.cleaned_data[name] for name in CHARGE_POINT_FIELDS if name in form.cleaned_data}
            saved = charge_point_create(by=request.user, **data)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # no inlines; the service saved the charge point

    def delete_model(self, request, obj):
        charge_point_delete(charge_point=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for charge_point in queryset:
            charge_point_delete(charge_point=charge_point, by=request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        cp = None
        if str(object_id).isdigit():
            cp = self.get_queryset(request).filter(pk=int(object_id)).first()
        if cp is not None:
            extra["telemetry"] = telemetry_recent(charge_point_id=cp.pk)
            extra["cp"] = cp
            extra["state_variant"] = STATE_COLOURS.get(cp.state, GREY)
            extra["qr"] = {
                "url": public_report_url(public_code=cp.public_code),
                "code": cp.public_code,
                "image": qr_png_data_uri(public_code=cp.public_code, scale=5),
                "png_url": reverse(f"{self.admin_site.name}:chargepoints_chargepoint_qr", args=[cp.pk]),
            }
        return super().change_view(request, object_id, form_url, extra)

    # --- QR stickers: the public report page's address, for drivers ---

    def get_urls(self):
        qr = path("<int:object_id>/qr.png", self.admin_site.admin_view(self.qr_view),
                  name="chargepoints_chargepoint_qr")
        sheet = path("<int:object_id>/stickers/", self.admin_site.admin_view(self.sticker_sheet_view),
                     name="chargepoints_chargepoint_stickers")
        return [qr, sheet, *super().get_urls()]

    def sticker_sheet_view(self, request, object_id):
        """One charge point's sticker on the printable sheet (a link for it;
        the list's action prints many)."""
        cp = get_object_or_404(self.get_queryset(request), pk=object_id)
        return self._sticker_sheet(request, self.get_queryset(request).filter(pk=cp.pk))

    def qr_view(self, request, object_id):
        """The QR code as a PNG, for printing one sticker by hand."""
        cp = get_object_or_404(self.get_queryset(request), pk=object_id)
        response = HttpResponse(qr_png(public_code=cp.public_code, scale=10), content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="qr-{cp.public_code}.png"'
        return response

    @admin.action(description="Print QR stickers for the selected charge points")
    def print_qr_stickers(self, request, queryset):
        # The action's queryset is the changelist's, so it is already scoped
        # to the charge points the user may see.
        return self._sticker_sheet(request, queryset)

    def _sticker_sheet(self, request, queryset):
        stickers = [
            {"name": cp.name, "site": cp.site.name, "code": cp.public_code,
             "url": public_report_url(public_code=cp.public_code),
             "image": qr_png_data_uri(public_code=cp.public_code, scale=6)}
            for cp in queryset.select_related("site").order_by("site__name", "name")[:500]
        ]
        return TemplateResponse(request, "admin/chargepoints/chargepoint/qr_stickers.html",
                                {**self.admin_site.each_context(request), "opts": self.opts,
                                 "stickers": stickers, "title": "QR stickers"})


class SiteAdmin(ServiceRefusalAdminMixin, ScopedAdminMixin, ModelAdmin):
    support_actions = {"view", "add", "change", "delete"}
    operator_capabilities = {"view": Capability.VIEW, "add": Capability.EDIT_ASSETS,
                             "change": Capability.EDIT_ASSETS}

    list_display = ["name", "team", "city", "country", "charge_point_count"]
    list_filter = ["country", SiteTeamFilter]
    search_fields = ["name", "address", "city", "postal_code"]
    list_select_related = ["team"]
    ordering = ["name"]
    fields = ["team", "name", "address", "city", "postal_code", "country", "latitude", "longitude"]
    change_form_template = "admin/chargepoints/site/change_form.html"

    def teams_of(self, obj):
        return {obj.team_id}

    def has_view_permission(self, request, obj=None):
        if super().has_view_permission(request, obj):
            return True
        # A site of another team that holds one of the user's charge points.
        return (obj is not None and not self.on_support_site() and self.allows(request, "view")
                and Site.objects.for_user(request.user).filter(pk=obj.pk).exists())

    def get_queryset(self, request):
        charge_points = ChargePoint.objects.for_user(request.user).filter(site=OuterRef("pk"))
        return super().get_queryset(request).annotate(_cps=_count(charge_points, "site"))

    @admin.display(description="charge points", ordering="_cps")
    def charge_point_count(self, obj):
        return obj._cps

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "team":
            kwargs["queryset"] = _editable_teams(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            saved = site_update(site=obj, by=request.user, **_changes(form, SITE_FIELDS))
        else:
            saved = site_create(by=request.user, **{n: form.cleaned_data[n] for n in SITE_FIELDS
                                                    if n in form.cleaned_data})
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # no inlines; the service saved the site

    def delete_model(self, request, obj):
        site_delete(site=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for site in queryset:
            site_delete(site=site, by=request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        site = None
        if str(object_id).isdigit():
            site = self.get_queryset(request).filter(pk=int(object_id)).first()
        if site is not None:
            charge_points = ChargePoint.objects.for_user(request.user).filter(site=site).order_by("name")
            extra["site_charge_points"] = list(charge_points[:50])
            extra["site_charge_point_count"] = site._cps
            extra["charge_point_list_url"] = (
                reverse(f"{self.admin_site.name}:chargepoints_chargepoint_changelist") + f"?site={site.pk}"
            )
        return super().change_view(request, object_id, form_url, extra)


for admin_site in (support_site, operator_site):
    admin_site.register(ChargePoint, ChargePointAdmin)
    admin_site.register(Site, SiteAdmin)


class TeamWithChargePointsAdmin(TeamAdmin):
    """The team list with how many charge points each team owns and
    operates (added here: accounts knows nothing of charge points)."""

    list_display = [*TeamAdmin.list_display, "owned", "operated"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _owned=related_count(ChargePoint.objects.filter(owner=OuterRef("pk")), "owner"),
            _operated=related_count(ChargePoint.objects.filter(operator=OuterRef("pk")), "operator"),
        )

    @admin.display(description="charge points owned", ordering="_owned")
    def owned(self, obj):
        return obj._owned

    @admin.display(description="charge points operated", ordering="_operated")
    def operated(self, obj):
        return obj._operated


for admin_site in (support_site, operator_site):
    admin_site.unregister(Team)
    admin_site.register(Team, TeamWithChargePointsAdmin)
