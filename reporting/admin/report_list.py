"""The reports list: its columns, the views above it, the search and the
CSV export. Mixed into ``ReportAdmin`` (reports.py)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from accounts.permissions import person_label
from chargepoints.models import ChargePoint, Site
from reporting.catalogue import Party, Reason, Source
from reporting.contact_visibility import reports_with_visible_contact
from reporting.exports import report_csv_lines
from reporting.models import ReportReporter, ReportState
from reporting.response_targets import report_time_left

from .filters import QuickViewFilter, StateFilter

NO_CHARGE_POINT = _("— needs a charge point —")


def label_of(choices, value):
    """A choice's label in the active language (a lazy label, read when shown)."""
    try:
        return choices(value).label
    except ValueError:
        return value


class ReportListMixin:
    # --- columns: everything comes from list_select_related, no query per row.
    # Few and dense, so the list fits 1280 px: the charging site and the
    # teams sit under the charge point, the source under the reason. ---

    @admin.display(description=_("charge point"), ordering="charge_point__name")
    def charge_point_col(self, obj):
        url = reverse(f"{self.admin_site.name}:reporting_report_change", args=[obj.pk])
        if obj.charge_point_id is None:
            title = _("— (the whole site)") if obj.site_id else NO_CHARGE_POINT
            site = obj.site.name if obj.site_id else ""
            teams = obj.site.team.name if obj.site_id else ""
        else:
            cp = obj.charge_point
            title = f"{cp.name} ({cp.ocpp_id})"
            site = cp.site.name
            teams = cp.owner.name if cp.owner_id == cp.operator_id else f"{cp.owner.name} / {cp.operator.name}"
        under = " · ".join(part for part in (site, teams) if part)
        return format_html('<a href="{}" class="bo-cp">{}</a><div class="bo-sub">{}</div>', url, title, under)

    @admin.display(description=_("reason"), ordering="reason")
    def reason_col(self, obj):
        return format_html('{}<div class="bo-sub">{}</div>', label_of(Reason, obj.reason),
                           label_of(Source, obj.source))

    @admin.display(description=_("state"), ordering="state")
    def state_col(self, obj):
        return format_html('<span class="report-state report-state-{}">{}</span>', obj.state,
                           label_of(ReportState, obj.state))

    @admin.display(description=_("assigned to"), ordering="assigned_party")
    def assigned_col(self, obj):
        party = label_of(Party, obj.assigned_party)
        if obj.assigned_to_id:
            return format_html('{}<div class="bo-sub">{}</div>',
                               person_label(obj.assigned_to, for_support=self.on_support_site()), party)
        return party

    @admin.display(description=_("age"), ordering="-created_at")
    def age(self, obj):
        """The age, and under it the response-time target's time left."""
        age = timesince(obj.created_at, timezone.now(), depth=1)
        left = self.time_left(obj)
        if left == "—":
            return age
        return format_html('{}<div class="bo-sub">{}</div>', age, left)

    @admin.display(description=_("time left"))
    def time_left(self, obj):
        """The response-time target that applies now: time left, or how long overdue."""
        left = report_time_left(obj) if obj.pk else None
        if left is None:
            return "—"
        if left.breached or left.at_risk:
            return format_html('<strong class="bo-warn">{}</strong>', left.label())
        return left.label()

    @admin.display(description=_("occurrences"), ordering="occurrences")
    def occurrences_col(self, obj):
        return obj.occurrences

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
        # One part per column: as an OR of the three in one scan, PostgreSQL
        # estimated a sequential scan of every charge point cheaper than the
        # trigram index (three times slower at 100,000 charge points).
        charge_points = ChargePoint.objects.filter(name__icontains=term).order_by().values("pk").union(
            ChargePoint.objects.filter(serial_number__icontains=term).order_by().values("pk"),
            ChargePoint.objects.filter(ocpp_id__icontains=term).order_by().values("pk"),
            ChargePoint.objects.filter(site__in=Site.objects.filter(name__icontains=term).values("pk"))
            .order_by().values("pk"),
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
        # The matches (at most a few thousand ids) are read first and named
        # as a list: as a subquery the list's seven joins came first and
        # PostgreSQL (join_collapse_limit) joined every unresolved report
        # before keeping the matches, 1.6 s instead of 25 ms at 1M reports.
        return queryset.filter(pk__in=[row["pk"] for row in matches]), False

    def export_view(self, request):
        """The list as CSV: the same filters, search and team scope as the
        list itself (the changelist's own queryset), streamed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return redirect(reverse(f"{self.admin_site.name}:reporting_report_changelist") + "?e=1")
        # The export picks its own columns and joins (the list's select_related is not its).
        lines = report_csv_lines(changelist.queryset.select_related(None), actor=request.user, for_support=self.on_support_site())
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        filename = f"reports-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
