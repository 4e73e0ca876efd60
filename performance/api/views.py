"""The performance figures through the API, read only and scoped like the
rest: a charge point, a site or a team the caller cannot see is a 404.
``?period=`` is 30d (default), 90d, 365d, a month (2026-03) or a quarter
(2026-Q1); anything else is a 400."""

from __future__ import annotations

from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team
from chargepoints.models import ChargePoint, Site
from reporting.models import Report
from reporting.reviews import review_summary

from ..pages import SITE_ROWS, open_report_counts, site_rows
from ..periods import period_parse
from ..response_times import GROUPS, response_times
from ..selectors import figures_for, worst_by_success_rate, worst_by_uptime
from ..teams import whole_team
from ..totals import totals_for
from .serializers import (
    ChargePointPerformanceSerializer,
    ResponseTimesSerializer,
    SitePerformanceSerializer,
    TeamPerformanceSerializer,
    figures_data,
)

TAG = "performance"
PERIOD = OpenApiParameter(
    "period", str, OpenApiParameter.QUERY, required=False,
    description="30d (default), 90d, 365d, a calendar month (2026-03) or a calendar quarter (2026-Q1); UTC days.",
)
_PERIOD = {"label": "2026-Q1", "first": "2026-01-01", "last": "2026-03-31"}
_FIGURES = {
    "period": _PERIOD, "uptime": 99.72, "minutes": 259200.0, "outage_minutes": 780.0, "excluded_minutes": 60.0,
    "attempts": 412, "successes": 398, "success_rate": 96.6, "port_count": 2,
    "ports": [{"connector": 1, "minutes": 129600.0, "outage_minutes": 660.0, "excluded_minutes": 60.0,
               "uptime": 99.54, "attempts": 201, "successes": 190, "success_rate": 94.5},
              {"connector": 2, "minutes": 129600.0, "outage_minutes": 120.0, "excluded_minutes": 0.0,
               "uptime": 99.91, "attempts": 208, "successes": 205, "success_rate": 98.6}],
    "outage_causes": [{"cause": "error:GroundFailure", "label": "Error: GroundFailure (Ground fault)",
                       "value": 600.0}],
    "failure_causes": [{"cause": "no_energy", "label": "No energy delivered", "value": 9}],
}
_ROW = {"charge_point": 301, "name": "Harbour 1", "uptime": 97.1, "success_rate": 88.0, "attempts": 50,
        "successes": 44, "open_reports": 1}


def _period(request):
    return period_parse(request.query_params.get("period"), today=timezone.now().date())


def _row(cp_id: int, name: str, figures, open_reports: int | None = None) -> dict:
    row = {"charge_point": cp_id, "name": name, "uptime": figures.uptime, "success_rate": figures.success_rate,
           "attempts": figures.attempts, "successes": figures.successes}
    if open_reports is not None:
        row["open_reports"] = open_reports
    return row


class ChargePointPerformanceView(APIView):
    serializer_class = ChargePointPerformanceSerializer

    @extend_schema(
        summary="A charge point's performance",
        description="Uptime per port and over all ports (NEVI), the charging success rate, the outage "
        "minutes and failed charges by cause, and the drivers' rating, over the period.",
        parameters=[OpenApiParameter("charge_point_id", int, OpenApiParameter.PATH, description="Charge point id."),
                    PERIOD],
        examples=[OpenApiExample("A charge point's quarter", response_only=True, value={
            "charge_point": 301, **_FIGURES, "rating": {"average": 4.2, "count": 17}})],
        tags=[TAG],
    )
    def get(self, request, charge_point_id):
        cp = get_object_or_404(ChargePoint.objects.for_user(request.user), pk=charge_point_id)
        period = _period(request)
        figures = figures_for(charge_points=ChargePoint.objects.filter(pk=cp.pk), period=period,
                              with_causes=True)[cp.pk]
        rating = review_summary(charge_point_id=cp.pk, limit=0)
        return Response({"charge_point": cp.pk, **figures_data(figures, period),
                         "rating": {"average": rating.average, "count": rating.count}})


class SitePerformanceView(APIView):
    serializer_class = SitePerformanceSerializer

    @extend_schema(
        summary="A site's performance",
        description="The figures over all the site's charge points you can see (their ports' minutes "
        "summed; `ports` sums them per connector number), and each charge point's uptime and success rate, "
        f"lowest uptime first: every charge point of a site of up to {SITE_ROWS}; beyond, the {SITE_ROWS} "
        "with the lowest uptime below 100 % (`charge_points_total` says how many the site has).",
        parameters=[OpenApiParameter("site_id", int, OpenApiParameter.PATH, description="Site id."), PERIOD],
        examples=[OpenApiExample("A site's quarter", response_only=True, value={
            "site": 12, **_FIGURES, "charge_points": [{k: v for k, v in _ROW.items() if k != "open_reports"}],
            "charge_points_total": 1})],
        tags=[TAG],
    )
    def get(self, request, site_id):
        site = get_object_or_404(Site.objects.for_user(request.user), pk=site_id)
        period = _period(request)
        charge_points = ChargePoint.objects.for_user(request.user).filter(site=site)
        now = timezone.now()
        total = totals_for(charge_points=charge_points, period=period, now=now, with_causes=True)
        ranked, count = site_rows(charge_points=charge_points, period=period, now=now)
        names = dict(ChargePoint.objects.filter(pk__in=[cp_id for cp_id, _f in ranked]).values_list("pk", "name"))
        return Response({"site": site.pk, **figures_data(total, period),
                         "charge_points": [_row(cp_id, names[cp_id], f) for cp_id, f in ranked],
                         "charge_points_total": count})


class TeamPerformanceView(APIView):
    serializer_class = TeamPerformanceSerializer

    @extend_schema(
        summary="A team's performance",
        description="The figures over every charge point the team owns or operates (summed in the "
        "database; `ports` sums the ports per connector number: port 1 of every charge point, port 2, ...), "
        "and the 20 with the lowest uptime and the 20 with the lowest charging success rate, with their open "
        "reports.",
        parameters=[OpenApiParameter("team_id", int, OpenApiParameter.PATH, description="Team id."), PERIOD],
        examples=[OpenApiExample("A team's quarter", response_only=True, value={
            "team": 7, **_FIGURES, "worst_uptime": [_ROW], "worst_success_rate": [_ROW]})],
        tags=[TAG],
    )
    def get(self, request, team_id):
        team = get_object_or_404(Team.objects.for_user(request.user), pk=team_id)
        period = _period(request)
        charge_points = ChargePoint.objects.for_user(request.user).filter(owner_id=team.pk) | \
            ChargePoint.objects.for_user(request.user).filter(operator_id=team.pk)
        now = timezone.now()
        # A member (or support) sees all the team's charge points: read by the rollups' team columns.
        team_id = whole_team(request.user, team.pk)
        total = totals_for(charge_points=charge_points, period=period, now=now, with_causes=True, team_id=team_id)
        by_uptime = worst_by_uptime(charge_points=charge_points, period=period, now=now, team_id=team_id)
        by_success = worst_by_success_rate(charge_points=charge_points, period=period, now=now, team_id=team_id)
        ids = {cp_id for cp_id, _f in by_uptime} | {cp_id for cp_id, _f in by_success}
        names = dict(ChargePoint.objects.filter(pk__in=ids).values_list("pk", "name"))
        reports = open_report_counts(ids)
        return Response({
            "team": team.pk, **figures_data(total, period),
            "worst_uptime": [_row(cp_id, names[cp_id], f, reports.get(cp_id, 0)) for cp_id, f in by_uptime],
            "worst_success_rate": [_row(cp_id, names[cp_id], f, reports.get(cp_id, 0)) for cp_id, f in by_success],
        })


class ResponseTimesView(APIView):
    serializer_class = ResponseTimesSerializer

    @extend_schema(
        summary="A team's response times",
        description="For the reports about the team's charge points and sites filed in the period: time to "
        "first response and to resolution (median and 90th percentile, in seconds) and the share of resolved "
        "reports solved remotely (a remote command before the resolution, no site visit), per team, site or "
        "reason (`by`).",
        parameters=[
            OpenApiParameter("team_id", int, OpenApiParameter.PATH, description="Team id."), PERIOD,
            OpenApiParameter("by", str, OpenApiParameter.QUERY, required=False, enum=list(GROUPS),
                             description="Group by team, site or reason (default reason)."),
        ],
        examples=[OpenApiExample("By reason", response_only=True, value={
            "period": _PERIOD, "by": "reason", "rows": [{
                "key": "in_error", "label": "In error for a while", "reports": 31, "resolved": 29,
                "first_response_median_seconds": 1860.0, "first_response_p90_seconds": 14400.0,
                "resolution_median_seconds": 10800.0, "resolution_p90_seconds": 172800.0,
                "resolved_remotely_percent": 62.1}]})],
        tags=[TAG],
    )
    def get(self, request, team_id):
        team = get_object_or_404(Team.objects.for_user(request.user), pk=team_id)
        period = _period(request)
        by = request.query_params.get("by") or "reason"
        rows = response_times(reports=Report.objects.for_user(request.user).for_teams([team.pk]), by=by,
                              created_from=period.start, created_before=period.end)

        def seconds(value: timedelta | None):
            return None if value is None else value.total_seconds()

        return Response({"period": {"label": period.label, "first": period.first, "last": period.last}, "by": by,
                         "rows": [{
                             "key": None if row.key is None else str(row.key), "label": row.label,
                             "reports": row.reports, "resolved": row.resolved,
                             "first_response_median_seconds": seconds(row.first_response_median),
                             "first_response_p90_seconds": seconds(row.first_response_p90),
                             "resolution_median_seconds": seconds(row.resolution_median),
                             "resolution_p90_seconds": seconds(row.resolution_p90),
                             "resolved_remotely_percent": row.remote_share,
                         } for row in rows]})
