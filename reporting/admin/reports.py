"""Reports in both back-offices: the list, the report's page and its actions.

Support (/admin/) sees every team's reports; a team member (/operator/) sees
the reports about charge points their teams own or operate, and acts by role
(see accounts.permissions). The page itself is read-only: reports change only
through the assign/resolve/reopen pages, comments and conversation messages,
each a call to ``reporting.services`` that also writes the timeline.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import Q
from django.http import HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from accounts.admin_sites import operator_site, support_site
from accounts.admin_tenancy import ScopedAdminMixin
from accounts.permissions import Capability, is_support, person_label
from chargepoints.models import ChargePoint, Site
from core.admin.pagination import BigTableAdminMixin
from reporting import services
from reporting.catalogue import Party, Reason, Source
from reporting.contact_visibility import (
    HIDDEN_REPEAT_NOTE,
    driver_contact_visible,
    reports_with_visible_contact,
)
from reporting.error_hint_selectors import error_hint_for_report
from reporting.errors import ReportError
from reporting.exports import report_csv_lines
from reporting.models import EventKind, Report, ReportReporter, ReportState
from reporting.response_targets import report_time_left, with_due_times
from reporting.selectors import report_evidence
from reporting.services import report_allows, report_site_team_ids

from . import actions
from .driver_fields import DriverFieldsMixin
from .filters import (
    AssigneeFilter,
    CreatedRangeFilter,
    QuickViewFilter,
    ResponseTargetFilter,
    SiteFilter,
    StateFilter,
    TeamFilter,
)
from .forms import CommentForm, MessageForm, ReportCreateForm
from .linking import LinkChargePointForm, NeedsChargePointFilter, link_charge_point_view

REASON_LABELS = {value: str(label) for value, label in Reason.choices}
SOURCE_LABELS = {value: str(label) for value, label in Source.choices}
PARTY_LABELS = {value: str(label) for value, label in Party.choices}
STATE_LABELS = {value: str(label) for value, label in ReportState.choices}
NO_CHARGE_POINT = "— needs a charge point —"


class ReportAdmin(DriverFieldsMixin, BigTableAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    support_actions = {"view", "add"}
    operator_capabilities = {"view": Capability.VIEW, "add": Capability.COMMENT}

    list_display = ["id", "charge_point_col", "site_col", "owner_col", "operator_col", "source_col",
                    "reason_col", "state_col", "assigned_col", "age", "time_left", "occurrences"]
    list_display_links = ["id", "charge_point_col"]
    list_filter = [QuickViewFilter, StateFilter, "source", "reason", "assigned_party", AssigneeFilter,
                   ResponseTargetFilter, NeedsChargePointFilter, TeamFilter, SiteFilter, CreatedRangeFilter]
    search_fields = ["description"]  # see get_search_results
    search_limit = 1000
    search_help_text = _(
        "Charge point name, serial or OCPP id, charging site name, description, the driver's name or e-mail, "
        "or #id; shows the newest 1,000 matches of each."
    )
    list_select_related = ["charge_point__site", "charge_point__owner", "charge_point__operator", "assigned_to",
                           "site"]
    list_per_page = 50
    ordering = ["-created_at", "-id"]
    actions = ["assign_reports", "resolve_reports", "reopen_reports"]
    autocomplete_fields = ["charge_point"]
    change_form_template = "admin/reporting/report/change_form.html"
    change_list_template = "admin/reporting/report/change_list.html"
    inlines = []  # the notifications app adds the report's e-mails

    fieldsets = [
        (None, {"fields": ["description"]}),
        ("Reported by", {"fields": ["reporter_display", "reporter_name", "reporter_email", "reporter_phone",
                                    "reporter_count", "drivers_display", "attachments_display"]}),
        ("Resolution", {"fields": ["time_left", "resolution_note", "resolved_at"]}),
        ("Bookkeeping", {"fields": ["occurrences", "flapping", "last_seen_at", "condition_cleared_at", "created_at",
                                    "updated_at"]}),
    ]
    readonly_fields = ["description", "time_left", "reporter_display", "reporter_name", "reporter_email", "reporter_phone",
                       "reporter_count", "drivers_display", "attachments_display",
                       "resolution_note", "resolved_at", "occurrences", "flapping", "last_seen_at",
                       "condition_cleared_at",
                       "created_at", "updated_at"]

    def teams_of(self, obj):
        if obj.charge_point_id is None and obj.site_id is not None:
            return report_site_team_ids(site_id=obj.site_id)
        if obj.charge_point_id is None:
            return set()
        return {obj.charge_point.owner_id, obj.charge_point.operator_id}

    def get_queryset(self, request):
        # The response-time targets' due times: subqueries on the small
        # targets table, so the "time left" column costs no query per row.
        return with_due_times(super().get_queryset(request).select_related(*self.list_select_related))

    # --- columns: everything comes from list_select_related, no query per row ---

    @admin.display(description="charge point", ordering="charge_point__name")
    def charge_point_col(self, obj):
        if obj.charge_point_id is None:
            return "— (the whole site)" if obj.site_id else NO_CHARGE_POINT
        return f"{obj.charge_point.name} ({obj.charge_point.ocpp_id})"

    @admin.display(description="site", ordering="charge_point__site__name")
    def site_col(self, obj):
        site = obj.report_site
        return site.name if site is not None else "—"

    @admin.display(description="owner")
    def owner_col(self, obj):
        return obj.charge_point.owner.name if obj.charge_point_id else "—"

    @admin.display(description="operator")
    def operator_col(self, obj):
        return obj.charge_point.operator.name if obj.charge_point_id else "—"

    @admin.display(description="source", ordering="source")
    def source_col(self, obj):
        return SOURCE_LABELS.get(obj.source, obj.source)

    @admin.display(description="reason", ordering="reason")
    def reason_col(self, obj):
        return REASON_LABELS.get(obj.reason, obj.reason)

    @admin.display(description="state", ordering="state")
    def state_col(self, obj):
        return format_html('<span class="report-state report-state-{}">{}</span>', obj.state,
                           STATE_LABELS.get(obj.state, obj.state))

    @admin.display(description="assigned to", ordering="assigned_party")
    def assigned_col(self, obj):
        party = PARTY_LABELS.get(obj.assigned_party, obj.assigned_party)
        if obj.assigned_to_id:
            return f"{party}: {person_label(obj.assigned_to, for_support=self.on_support_site())}"
        return party

    @admin.display(description="age", ordering="-created_at")
    def age(self, obj):
        return timesince(obj.created_at, timezone.now(), depth=1)

    @admin.display(description="time left")
    def time_left(self, obj):
        """The response-time target that applies now: time left, or how long overdue."""
        left = report_time_left(obj) if obj.pk else None
        if left is None:
            return "—"
        if left.breached or left.at_risk:
            return format_html('<strong class="bo-warn">{}</strong>', left.label())
        return left.label()

    @admin.display(description="reported by")
    def reporter_display(self, obj):
        if obj.reported_by_id:
            return person_label(obj.reported_by, for_support=self.on_support_site())
        return obj.reporter_name or {"system": "The health checks"}.get(obj.source, "—")

    # --- the views above the list ---

    QUICK_VIEWS = [
        ("unresolved", _("Unresolved"), {}),
        (QuickViewFilter.MINE, _("Assigned to me"), {"view": QuickViewFilter.MINE}),
        (QuickViewFilter.TEAM, _("My team's"), {"view": QuickViewFilter.TEAM}),
        (QuickViewFilter.UNASSIGNED, _("Unassigned"), {"view": QuickViewFilter.UNASSIGNED}),
        (StateFilter.ALL, _("All"), {"state": StateFilter.ALL}),
    ]

    def quick_views(self, request) -> list[dict]:
        """Each view is a clean link (its own parameters only); the one whose
        parameters the page has is marked."""
        current = {"view": request.GET.get("view"), "state": request.GET.get("state")}
        views = []
        for key, label, params in self.QUICK_VIEWS:
            active = all(current[name] == params.get(name) for name in current)
            query = "&".join(f"{name}={value}" for name, value in params.items())
            views.append({"key": key, "label": label, "url": f"?{query}" if query else "?", "active": active})
        return views

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "quick_views": self.quick_views(request)}
        return super().changelist_view(request, extra_context)

    # --- search: one subquery finds the charge points (by name, serial, OCPP
    # id or site name), so the reports table is filtered on its own columns
    # and PostgreSQL never joins every report to its charge point to search ---

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        charge_points = ChargePoint.objects.filter(
            Q(name__icontains=term) | Q(serial_number__icontains=term) | Q(ocpp_id__icontains=term)
        ).order_by().values("pk").union(
            ChargePoint.objects.filter(site__in=Site.objects.filter(name__icontains=term).values("pk"))
            .order_by().values("pk")
        )
        # A UNION of ids, one part per column: each part can use its own index
        # (the charge point's, a trigram index on the description where there
        # is one), which an OR across them never can. Each part keeps its
        # newest ``search_limit`` matches, so a word found in half the table does
        # not sort half the table.
        number = term.removeprefix("#")
        report_id = int(number) if number.isdigit() and len(number) < 19 else None
        # The driver's name and e-mail address: only on the reports where
        # the user may see them (need to know), else a search would tell
        # which reports a driver filed.
        contact_visible = reports_with_visible_contact(queryset.select_related(None).order_by(),
                                                       actor=request.user)
        by_reporter = contact_visible.filter(Q(reporter_name__icontains=term) | Q(reporter_email__icontains=term))
        by_filing = contact_visible.filter(pk__in=ReportReporter.objects.filter(
            Q(name__icontains=term) | Q(email__icontains=term)).values("report_id"))
        if not connections[queryset.db].features.supports_slicing_ordering_in_compound:
            # SQLite (a development database): a plain OR is fine at that size.
            q = (Q(description__icontains=term) | Q(charge_point_id__in=charge_points)
                 | Q(pk__in=by_reporter.values("pk")) | Q(pk__in=by_filing.values("pk")))
            if report_id is not None:
                q |= Q(pk=report_id)
            return queryset.filter(q), False

        # The cap applies to what this user may see (and has filtered): capped
        # over every team, other teams' newer matches would push theirs out.
        scoped = queryset.select_related(None).order_by()

        def newest(reports):
            return reports.order_by("-created_at").values("pk")[: self.search_limit]

        matches = newest(scoped.filter(description__icontains=term)).union(
            newest(scoped.filter(charge_point_id__in=charge_points)),
            newest(by_reporter),
            newest(by_filing),
        )
        if report_id is not None:
            matches = matches.union(scoped.filter(pk=report_id).values("pk"))
        return queryset.filter(pk__in=matches), False

    # --- filing a report: through the service ---

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        user = request.user
        sources = [Source.USER, Source.SUPPORT] if self.on_support_site() else [Source.USER]
        kwargs["form"] = type("ReportCreateForm", (ReportCreateForm,), {"actor": user, "sources": sources})
        kwargs["fields"] = ReportCreateForm.Meta.fields
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ReportCreateForm.Meta.fields})]
        if not driver_contact_visible(actor=request.user, report=obj):
            masked = ["reporter_hidden", "reporter_count", "attachments_display"]
            return [(name, {"fields": masked}) if name == "Reported by" else (name, options)
                    for name, options in self.fieldsets]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [*self.readonly_fields, "reporter_hidden"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied  # the page is read-only; changes go through the actions
        data = form.cleaned_data
        report = services.report_create(
            charge_point=data["charge_point"], source=data["source"], reason=data["reason"],
            description=data.get("description", ""), by=request.user,
            reporter_name=data.get("reporter_name", ""), reporter_email=data.get("reporter_email", ""),
            reporter_phone=data.get("reporter_phone", ""),
        )
        obj.pk = obj.id = report.pk

    def save_related(self, request, form, formsets, change):
        pass  # the service wrote everything

    def response_add(self, request, obj, post_url_continue=None):
        """After filing, the new report's page (where the next step is), not the list."""
        if "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"Report #{obj.pk} filed.", messages.SUCCESS)
        return redirect(self._page_url(obj))

    # --- the list's actions ---

    def _may(self, request, capability, obj=None):
        if self.on_support_site():
            return is_support(request.user)
        if obj is not None:
            return report_allows(request.user, capability, obj)
        return bool(self.capable_team_ids(request, capability))

    def has_assign_permission(self, request, obj=None):
        return self._may(request, Capability.ASSIGN, obj)

    def has_resolve_permission(self, request, obj=None):
        return self._may(request, Capability.RESOLVE, obj)

    def has_comment_permission(self, request, obj=None):
        return self._may(request, Capability.COMMENT, obj)

    @admin.action(description="Assign report…", permissions=["assign"])
    def assign_reports(self, request, queryset):
        return actions.bulk_action(self, request, queryset, "assign")

    @admin.action(description="Resolve…", permissions=["resolve"])
    def resolve_reports(self, request, queryset):
        return actions.bulk_action(self, request, queryset, "resolve")

    @admin.action(description="Reopen…", permissions=["resolve"])
    def reopen_reports(self, request, queryset):
        return actions.bulk_action(self, request, queryset, "reopen")

    # --- the report page's buttons ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("export.csv", view(self.export_view), name="reporting_report_export"),
            path("<int:report_id>/assign/", view(self.transition_view), {"name": "assign"},
                 name="reporting_report_assign"),
            path("<int:report_id>/resolve/", view(self.transition_view), {"name": "resolve"},
                 name="reporting_report_resolve"),
            path("<int:report_id>/reopen/", view(self.transition_view), {"name": "reopen"},
                 name="reporting_report_reopen"),
            path("<int:report_id>/comment/", view(self.comment_view), name="reporting_report_comment"),
            path("<int:report_id>/message/", view(self.message_view), name="reporting_report_message"),
            path("<int:report_id>/link-charge-point/", view(lambda request, report_id: link_charge_point_view(
                self, request, report_id)), name="reporting_report_link_charge_point"),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """The list as CSV: the same filters, search and team scope as the
        list itself (the changelist's own queryset), streamed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return redirect(reverse(f"{self.admin_site.name}:reporting_report_changelist") + "?e=1")
        lines = report_csv_lines(changelist.queryset, actor=request.user, for_support=self.on_support_site())
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        filename = f"reports-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def _report(self, request, report_id) -> Report:
        return get_object_or_404(self.get_queryset(request), pk=report_id)

    def _page_url(self, report) -> str:
        return reverse(f"{self.admin_site.name}:reporting_report_change", args=[report.pk])

    def transition_view(self, request, report_id, name):
        report = self._report(request, report_id)
        why = actions.refusal(report, name, request.user)
        if why is not None:
            self.message_user(request, why, messages.ERROR)
            return redirect(self._page_url(report))
        if request.method == "POST":
            form = actions.make_form(name, request, [report], request.POST)
            if form.is_valid():
                done, failed = actions.apply(name, reports=[report], user=request.user, cleaned=form.cleaned_data)
                actions.report_outcome(self, request, name, done, failed, form.cleaned_data)
                return redirect(self._page_url(report))
        else:
            form = actions.make_form(name, request, [report])
        return actions.render_page(self, request, name, reports=[report], form=form, bulk=False,
                                   cancel_url=self._page_url(report))

    def comment_view(self, request, report_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        report = self._report(request, report_id)
        form = CommentForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "Write a comment first.", messages.ERROR)
        else:
            try:
                services.report_comment(report=report, by=request.user, body=form.cleaned_data["body"])
            except ReportError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, "Comment added to the timeline.", messages.SUCCESS)
        return redirect(self._page_url(report) + "#timeline")

    def message_view(self, request, report_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        report = self._report(request, report_id)
        form = MessageForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "Write a message first.", messages.ERROR)
        else:
            try:
                services.report_add_message(report=report, by=request.user, **form.cleaned_data)
            except ReportError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, "Message added to the conversation.", messages.SUCCESS)
        return redirect(self._page_url(report) + "#conversation")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = None
        if str(object_id).isdigit():
            report = self.get_queryset(request).filter(pk=int(object_id)).first()
        extra = {}
        if report is not None:
            extra = self.page_context(request, report)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def page_context(self, request, report: Report) -> dict:
        site = self.admin_site.name
        cp = report.charge_point
        user = request.user
        buttons = []
        for name in ("assign", "resolve", "reopen"):
            if actions.refusal(report, name, user) is None:
                buttons.append({"label": actions.TRANSITIONS[name].title.replace(" report", "") + "…",
                                "url": reverse(f"{site}:reporting_report_{name}", args=[report.pk])})
        # People are named by name only outside /admin/ (see person_label).
        for_support = self.on_support_site()
        events = list(report.events.select_related("to_person", "actor").order_by("created_at", "id"))
        contact_visible = driver_contact_visible(actor=user, report=report)
        for event in events:
            if not contact_visible and event.kind == EventKind.REPORTED_AGAIN:
                event.note = HIDDEN_REPEAT_NOTE
            event.actor_display = event.actor_label
            if event.actor_id and event.actor_label.lower() == event.actor.email.lower():
                event.actor_display = person_label(event.actor, for_support=for_support)
            event.to_person_display = person_label(event.to_person, for_support=for_support)
        conversation = list(report.messages.select_related("author").order_by("sent_at", "id"))
        for message in conversation:
            message.author_display = message.author_name
            if not contact_visible and message.sender == message.Sender.DRIVER:
                message.author_display = "Driver"
            if message.author_id and message.author_name.lower() == message.author.email.lower():
                message.author_display = person_label(message.author, for_support=for_support)
        return {
            "report": report,
            "cp": cp,
            "cp_url": reverse(f"{site}:chargepoints_chargepoint_change", args=[cp.pk]) if cp else "",
            "site_url": reverse(f"{site}:chargepoints_site_change", args=[cp.site_id if cp else report.site_id])
            if cp or report.site_id else "",
            "about_site": report.site if cp is None and report.site_id else None,
            "reason_label": REASON_LABELS.get(report.reason),
            "source_label": SOURCE_LABELS.get(report.source),
            "state_label": STATE_LABELS.get(report.state),
            "party_label": PARTY_LABELS.get(report.assigned_party),
            "age": timesince(report.created_at, timezone.now(), depth=2),
            "buttons": buttons,
            "events": events,
            "can_comment": report_allows(user, Capability.COMMENT, report),
            "comment_url": reverse(f"{site}:reporting_report_comment", args=[report.pk]),
            "comment_form": CommentForm(),
            "is_conversation": report.source == Source.SUPPORT,
            "conversation": conversation,
            "can_message": self.on_support_site() and is_support(user),
            "message_url": reverse(f"{site}:reporting_report_message", args=[report.pk]),
            "message_form": MessageForm(),
            "evidence": report_evidence(report=report),
            "assignee": person_label(report.assigned_to, for_support=for_support),
            "can_link": cp is None and report.source == Source.SUPPORT and self.on_support_site() and is_support(user),
            "link_url": reverse(f"{site}:reporting_report_link_charge_point", args=[report.pk]),
            "link_form": LinkChargePointForm(),
            "error_hint": error_hint_for_report(report),
        }


support_site.register(Report, ReportAdmin)
operator_site.register(Report, ReportAdmin)
