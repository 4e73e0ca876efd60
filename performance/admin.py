"""The performance screens in both back-offices (/admin/ for support,
/operator/ for teams, scoped like every page there):

- a "Performance" page for each charge point and each site (a button on
  their pages): uptime, success rate, rating, worst causes, the 90-day
  chart and the outage ledger;
- the team dashboard (charge points → Performance): the 20 worst charge
  points by uptime and by success rate, with their open reports, and the
  quarterly uptime CSV;
- exclusions of outage time and site outage causes, added and removed
  through their services (audited).

Added on top of the charge point and site admins registered by the apps
below, as the gateway adds remote troubleshooting."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.admin_refusals import ServiceRefusalAdminMixin
from accounts.admin_sites import operator_site, support_site
from accounts.admin_tenancy import ScopedAdminMixin
from accounts.models import Team
from accounts.permissions import Capability, is_support, visible_team_ids
from chargepoints.models import ChargePoint, Site
from core.admin.base import ModelAdmin
from core.errors import Invalid
from reporting.catalogue import Reason
from reporting.models import Report

from .exclusions import exclusion_add, exclusion_remove, site_outage_cause_clear, site_outage_cause_mark
from .exports import uptime_csv_lines
from .models import Exclusion, SiteOutageCause, SiteVisit
from .pages import charge_point_page, dashboard_page, site_page
from .periods import LAST_DAYS, Period, period_parse, period_quarter_of
from .response_times import site_visit_record
from .teams import whole_team

DEFAULT_PERIOD = "30d"


def _period(request, default: str = DEFAULT_PERIOD) -> Period:
    """The period asked for (``?period=``); a bad one is said and replaced
    by the default, never an error page."""
    today = timezone.now().date()
    try:
        return period_parse(request.GET.get("period"), today=today, default=default)
    except Invalid as error:
        messages.warning(request, error.message)
        return period_parse(default, today=today)


def _period_choices(today) -> list[tuple[str, str]]:
    quarter = period_quarter_of(today)
    previous = period_quarter_of(quarter.first - timedelta(days=1))
    month = f"{today:%Y-%m}"
    return [(f"{n}d", _("Last %(n)s days") % {"n": n}) for n in LAST_DAYS] + [
        (month, month), (quarter.label, quarter.label), (previous.label, previous.label)]


def _page(model_admin, request, template: str, title: str, context: dict) -> TemplateResponse:
    today = timezone.now().date()
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, template, {
        **model_admin.admin_site.each_context(request), "title": title, "opts": model_admin.model._meta,
        "period_choices": _period_choices(today), **context,
    })


def _dashboard_teams(request) -> list[Team]:
    ids = visible_team_ids(request.user)
    teams = Team.objects.all() if ids is None else Team.objects.filter(pk__in=ids)
    return list(teams.order_by("name"))


def _team_charge_points(request, teams: list[Team]):
    """The viewer's charge points of the chosen team (``?team=``): support
    may look at the whole fleet (no team)."""
    charge_points = ChargePoint.objects.for_user(request.user)
    chosen = request.GET.get("team", "")
    team = next((t for t in teams if str(t.pk) == chosen), None)
    if team is None and not is_support(request.user) and teams:
        team = teams[0]
    if team is not None:
        charge_points = charge_points.filter(owner_id=team.pk) | charge_points.filter(operator_id=team.pk)
    return team, charge_points


class PerformanceBaseTemplateMixin:
    """This page's template extends the one the admin below had (``{% extends
    performance_base_template %}``), adding the "Performance" button."""

    performance_url_name = ""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["performance_base_template"] = self._performance_base_template
        if obj is not None and obj.pk:
            context["performance_url"] = reverse(f"{self.admin_site.name}:{self.performance_url_name}",
                                                 args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)


def _with_charge_point_performance(base: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    class ChargePointWithPerformanceAdmin(PerformanceBaseTemplateMixin, base):
        change_form_template = "admin/performance/change_form_with_button.html"
        _performance_base_template = base.change_form_template or "admin/change_form.html"
        performance_url_name = "performance_chargepoint"

        def get_urls(self):
            view = self.admin_site.admin_view
            return [
                path("performance/", view(self.dashboard_view), name="performance_dashboard"),
                path("performance/export/", view(self.export_view), name="performance_export"),
                path("<int:object_id>/performance/", view(self.performance_view), name="performance_chargepoint"),
                *super().get_urls(),
            ]

        def performance_view(self, request, object_id):
            charge_point = get_object_or_404(self.get_queryset(request).select_related("site"), pk=object_id)
            if not self.has_view_permission(request, charge_point):
                raise admin.sites.PermissionDenied
            period = _period(request)
            context = charge_point_page(charge_point=charge_point, period=period)
            context.update({
                "cp": charge_point, "period": period,
                "cp_url": reverse(f"{self.admin_site.name}:chargepoints_chargepoint_change", args=[charge_point.pk]),
                "report_url": reverse(f"{self.admin_site.name}:reporting_report_changelist"),
                "exclusion_add_url": (reverse(f"{self.admin_site.name}:performance_exclusion_add")
                                      + f"?charge_point={charge_point.pk}"),
                "exclusions": Exclusion.objects.filter(charge_point=charge_point).order_by("-starts_at")[:20],
            })
            return _page(self, request, "admin/performance/charge_point.html",
                         _("Performance of %(name)s") % {"name": charge_point.name}, context)

        def dashboard_view(self, request):
            if not self.has_view_permission(request):
                raise admin.sites.PermissionDenied
            period = _period(request)
            teams = _dashboard_teams(request)
            team, charge_points = _team_charge_points(request, teams)
            context = dashboard_page(charge_points=charge_points, period=period,
                                     team_id=whole_team(request.user, team.pk if team else None))
            quarter = period_quarter_of(timezone.now().date())
            context.update({
                "period": period, "teams": teams, "team": team,
                "report_url": reverse(f"{self.admin_site.name}:reporting_report_changelist"),
                "export_url": reverse(f"{self.admin_site.name}:performance_export"),
                "quarter": quarter.label,
                "previous_quarter": period_quarter_of(quarter.first - timedelta(days=1)).label,
            })
            return _page(self, request, "admin/performance/dashboard.html", _("Performance"), context)

        def export_view(self, request):
            if not self.has_view_permission(request):
                raise admin.sites.PermissionDenied
            period = _period(request, default=period_quarter_of(timezone.now().date()).label)
            team, charge_points = _team_charge_points(request, _dashboard_teams(request))
            response = StreamingHttpResponse(uptime_csv_lines(charge_points, period=period),
                                             content_type="text/csv; charset=utf-8")
            name = f"uptime-{team.pk if team else 'all'}-{period.label}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response

    return ChargePointWithPerformanceAdmin


def _with_site_performance(base: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    class SiteWithPerformanceAdmin(PerformanceBaseTemplateMixin, base):
        change_form_template = "admin/performance/change_form_with_button.html"
        _performance_base_template = base.change_form_template or "admin/change_form.html"
        performance_url_name = "performance_site"

        def get_urls(self):
            view = self.admin_site.admin_view(self.performance_view)
            return [path("<int:object_id>/performance/", view, name="performance_site"), *super().get_urls()]

        def performance_view(self, request, object_id):
            site = get_object_or_404(self.get_queryset(request), pk=object_id)
            if not self.has_view_permission(request, site):
                raise admin.sites.PermissionDenied
            period = _period(request)
            charge_points = ChargePoint.objects.for_user(request.user).filter(site=site)
            context = site_page(site=site, charge_points=charge_points, period=period)
            context.update({"site": site, "period": period,
                            "site_url": reverse(f"{self.admin_site.name}:chargepoints_site_change", args=[site.pk])})
            return _page(self, request, "admin/performance/site.html",
                         _("Performance of %(name)s") % {"name": site.name}, context)

    return SiteWithPerformanceAdmin


# --- Exclusions and site outage causes --------------------------------------------------


class ExclusionForm(forms.ModelForm):
    class Meta:
        model = Exclusion
        fields = ["charge_point", "connector", "starts_at", "ends_at", "reason", "evidence_text", "evidence_file"]


class ExclusionAdmin(ServiceRefusalAdminMixin, ScopedAdminMixin, ModelAdmin):
    """Added and removed, never changed: a changed exclusion is a removed one
    and a new one, both audited."""

    support_actions = {"view", "add", "delete"}
    operator_capabilities = {"view": Capability.VIEW, "add": Capability.EDIT_ASSETS,
                             "delete": Capability.EDIT_ASSETS}
    form = ExclusionForm
    list_display = ["charge_point", "port", "starts_at", "ends_at", "reason", "created_by", "created_at"]
    list_select_related = ["charge_point", "created_by"]
    list_filter = ["reason"]
    search_fields = ["charge_point__name", "charge_point__ocpp_id", "evidence_text"]
    raw_id_fields = ["charge_point"]
    date_hierarchy = "starts_at"

    def teams_of(self, obj) -> set[int]:
        return {obj.charge_point.owner_id, obj.charge_point.operator_id}

    @admin.display(description=gettext_lazy("port"))
    def port(self, obj) -> str:
        return _("every port") if obj.connector is None else str(obj.connector)

    @admin.display(description=gettext_lazy("evidence file"))
    def evidence_file_name(self, obj) -> str:
        # The file sits in the private storage (no public URL).
        return obj.evidence_file.name.rsplit("/", 1)[-1] if obj.evidence_file else "—"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ExclusionForm.Meta.fields
        return [f for f in ExclusionForm.Meta.fields if f != "evidence_file"] + [
            "evidence_file_name", "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = exclusion_add(
            by=request.user, charge_point=data["charge_point"], connector=data.get("connector"),
            starts_at=data["starts_at"], ends_at=data["ends_at"], reason=data["reason"],
            evidence_text=data.get("evidence_text") or "", evidence_file=data.get("evidence_file"),
        )
        obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        pass  # no many-to-many fields, no inlines

    def delete_model(self, request, obj):
        exclusion_remove(by=request.user, exclusion=obj)

    def delete_queryset(self, request, queryset):
        for exclusion in queryset.select_related("charge_point"):
            exclusion_remove(by=request.user, exclusion=exclusion)


class ReportRowScopeMixin:
    """Rows about a report: support sees them all on /admin/, everyone else
    those of the reports they may see."""

    def scope_queryset(self, request, queryset):
        if self.on_support_site() and is_support(request.user):
            return queryset
        if not self.has_module_permission(request):
            return queryset.none()
        return queryset.filter(report__in=Report.objects.for_user(request.user))


class SiteOutageCauseForm(forms.ModelForm):
    class Meta:
        model = SiteOutageCause
        fields = ["report", "reason", "evidence_text"]


class SiteOutageCauseAdmin(ReportRowScopeMixin, ServiceRefusalAdminMixin, ScopedAdminMixin, ModelAdmin):
    """A site outage marked as outside the operator's control: only then do
    its charge points' outages stop counting against their uptime."""

    support_actions = {"view", "add", "delete"}
    operator_capabilities = {"view": Capability.VIEW, "add": Capability.EDIT_ASSETS,
                             "delete": Capability.EDIT_ASSETS}
    form = SiteOutageCauseForm
    list_display = ["report", "reason", "starts_at", "marked_by", "marked_at"]
    list_select_related = ["report__site", "marked_by"]
    raw_id_fields = ["report"]

    def teams_of(self, obj) -> set[int]:
        return {obj.report.site.team_id}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "report":
            kwargs["queryset"] = Report.objects.for_user(request.user).filter(
                reason=Reason.SITE_OFFLINE, charge_point__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ["report", "reason", "evidence_text", "starts_at", "marked_by", "marked_at"] if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        cause = site_outage_cause_mark(by=request.user, report=data["report"], reason=data["reason"],
                                       evidence_text=data.get("evidence_text") or "")
        obj.pk = cause.pk

    def save_related(self, request, form, formsets, change):
        pass  # no many-to-many fields, no inlines

    def delete_model(self, request, obj):
        site_outage_cause_clear(by=request.user, report=obj.report)

    def delete_queryset(self, request, queryset):
        for cause in queryset.select_related("report__site"):
            site_outage_cause_clear(by=request.user, report=cause.report)


class SiteVisitForm(forms.ModelForm):
    class Meta:
        model = SiteVisit
        fields = ["report", "visited_at"]


class SiteVisitAdmin(ReportRowScopeMixin, ServiceRefusalAdminMixin, ScopedAdminMixin, ModelAdmin):
    """Someone went on site for a report: such a report does not count as
    solved remotely (docs/performance.md, response times)."""

    support_actions = {"view", "add"}
    operator_capabilities = {"view": Capability.VIEW, "add": Capability.COMMENT}
    form = SiteVisitForm
    list_display = ["report", "visited_at", "recorded_by", "recorded_at"]
    list_select_related = ["report", "recorded_by"]
    raw_id_fields = ["report"]

    def teams_of(self, obj) -> set[int]:
        report = obj.report
        if report.charge_point_id:
            return {report.charge_point.owner_id, report.charge_point.operator_id}
        return {report.site.team_id} if report.site_id else set()

    def get_readonly_fields(self, request, obj=None):
        return ["report", "visited_at", "recorded_by", "recorded_at"] if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        visit = site_visit_record(by=request.user, report=data["report"], visited_at=data["visited_at"])
        obj.pk = visit.pk

    def save_related(self, request, form, formsets, change):
        pass  # no many-to-many fields, no inlines


def register() -> None:
    for admin_site in (support_site, operator_site):
        for model, extend in ((ChargePoint, _with_charge_point_performance), (Site, _with_site_performance)):
            current = type(admin_site._registry[model])
            admin_site.unregister(model)
            admin_site.register(model, extend(current))
        admin_site.register(Exclusion, ExclusionAdmin)
        admin_site.register(SiteOutageCause, SiteOutageCauseAdmin)
        admin_site.register(SiteVisit, SiteVisitAdmin)


register()
