"""Sites and charge points in both back-offices.

Support sees and edits every team's; a team member sees the charge points
their teams own or operate (and the sites holding them), and a team admin
registers and edits them. The live state and telemetry are read-only here:
the telemetry ingest sets them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from accounts.models import Team
from accounts.permissions import Capability, can_on_team, is_support, teams_with_capability
from chargepoints.models import ChargePoint, Site
from chargepoints.qr import public_report_url, qr_png, qr_png_data_uri
from config.admin_mixins import BigTableAdminMixin, ScopedAdminMixin, ScopedRelatedFilter
from config.admin_sites import operator_site, support_site
from reporting.models import Report, ReportState


def _count(queryset, column="pk"):
    """A correlated COUNT, evaluated only for the rows on the page."""
    return Coalesce(
        Subquery(queryset.order_by().values(column).annotate(n=Count("pk")).values("n")[:1],
                 output_field=IntegerField()),
        0,
    )


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
    actor = None

    class Meta:
        model = ChargePoint
        fields = ["name", "site", "owner", "operator", "serial_number", "ocpp_id", "vendor", "model",
                  "firmware_version", "connectivity"]

    def clean(self):
        cleaned = super().clean()
        owner = cleaned.get("owner", getattr(self.instance, "owner", None))
        operator = cleaned.get("operator", getattr(self.instance, "operator", None))
        if not any(team is not None and can_on_team(self.actor, Capability.EDIT_ASSETS, team_id=team.pk)
                   for team in (owner, operator)):
            raise forms.ValidationError(
                "You may only register charge points that a team where you are an admin owns or operates."
            )
        return cleaned


LIVE_FIELDS = ["state", "state_since", "error_code", "vendor_error_code", "last_heartbeat_at",
               "wifi_signal_dbm", "wifi_signal_at", "cellular_signal_dbm", "cellular_signal_at", "created_at"]


class ChargePointAdmin(BigTableAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    support_actions = {"view", "add", "change", "delete"}
    operator_capabilities = {"view": Capability.VIEW, "add": Capability.EDIT_ASSETS,
                             "change": Capability.EDIT_ASSETS}

    form = ChargePointForm
    list_display = ["name", "ocpp_id", "serial_number", "site", "owner", "operator", "state", "state_since",
                    "last_heartbeat_at", "wifi_signal_dbm", "cellular_signal_dbm", "open_reports"]
    list_filter = ["state", "connectivity", TeamOwnsOrOperatesFilter, SiteOfChargePointFilter]
    search_fields = ["name", "ocpp_id", "serial_number", "site__name", "vendor", "model", "=public_code"]
    list_select_related = ["site", "owner", "operator"]
    list_per_page = 50
    ordering = ["name"]
    change_form_template = "admin/chargepoints/chargepoint/change_form.html"
    autocomplete_fields = ["site", "owner", "operator"]
    actions = ["print_qr_stickers"]
    fieldsets = [
        ("Identity", {"fields": ["name", "site", "owner", "operator", "serial_number", "ocpp_id", "vendor",
                                 "model", "firmware_version", "connectivity"]}),
        ("Live state (from telemetry)", {"fields": LIVE_FIELDS}),
    ]

    def teams_of(self, obj):
        return {obj.owner_id, obj.operator_id}

    def get_queryset(self, request):
        open_reports = Report.objects.filter(charge_point=OuterRef("pk")).exclude(state=ReportState.RESOLVED)
        return super().get_queryset(request).annotate(_open_reports=_count(open_reports, "charge_point"))

    @admin.display(description="open reports", ordering="_open_reports")
    def open_reports(self, obj):
        return obj._open_reports

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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from reporting.admin.evidence import charge_point_recent

        extra = dict(extra_context or {})
        cp = None
        if str(object_id).isdigit():
            cp = self.get_queryset(request).filter(pk=int(object_id)).first()
        if cp is not None:
            site = self.admin_site.name
            extra["open_report_list"] = list(
                Report.objects.filter(charge_point=cp).unresolved().select_related("assigned_to")
                .order_by("-created_at")[:20]
            )
            extra["report_url"] = reverse(f"{site}:reporting_report_changelist")
            extra["telemetry"] = charge_point_recent(charge_point=cp)
            extra["cp"] = cp
            extra["qr"] = {
                "url": public_report_url(public_code=cp.public_code),
                "code": cp.public_code,
                "image": qr_png_data_uri(public_code=cp.public_code, scale=5),
                "png_url": reverse(f"{site}:chargepoints_chargepoint_qr", args=[cp.pk]),
            }
        return super().change_view(request, object_id, form_url, extra)

    # --- QR stickers: the public report page's address, for drivers ---

    def get_urls(self):
        qr = path("<int:object_id>/qr.png", self.admin_site.admin_view(self.qr_view),
                  name="chargepoints_chargepoint_qr")
        return [qr, *super().get_urls()]

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
        stickers = [
            {"name": cp.name, "site": cp.site.name, "code": cp.public_code,
             "url": public_report_url(public_code=cp.public_code),
             "image": qr_png_data_uri(public_code=cp.public_code, scale=6)}
            for cp in queryset.select_related("site").order_by("site__name", "name")[:500]
        ]
        return TemplateResponse(request, "admin/chargepoints/chargepoint/qr_stickers.html",
                                {"stickers": stickers, "title": "QR stickers"})


class SiteAdmin(ScopedAdminMixin, admin.ModelAdmin):
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
