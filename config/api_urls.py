"""The integrators' API, mounted at /api/v1/."""

from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from accounts.api.views import AuditLogViewSet, TeamViewSet
from chargepoints.api.telemetry_views import (
    ChargeViewSet,
    HeartbeatViewSet,
    SignalReadingViewSet,
    StateChangeViewSet,
    TelemetryIngestView,
)
from chargepoints.api.views import ChargePointViewSet, SiteViewSet
from core.rest.errors import api_not_found
from drivers.api.views import DriverReportViewSet, DriverReviewViewSet
from gateway.api.views import RemoteCommandViewSet
from performance.api.views import (
    ChargePointPerformanceView,
    ResponseTimesView,
    SitePerformanceView,
    TeamPerformanceView,
)
from performance.api.writes import ExclusionViewSet, SiteVisitViewSet
from reporting.api.maintenance import MaintenanceWindowViewSet
from reporting.api.views import (
    ReportMessageViewSet,
    ReportSettingsView,
    ReportTimelineViewSet,
    ReportViewSet,
)
from webhooks.api.views import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = DefaultRouter()
router.include_format_suffixes = False
router.register("teams", TeamViewSet, basename="team")
router.register("audit", AuditLogViewSet, basename="auditlog")
router.register("sites", SiteViewSet, basename="site")
router.register("charge-points", ChargePointViewSet, basename="chargepoint")
router.register("reports", ReportViewSet, basename="report")
router.register("maintenance-windows", MaintenanceWindowViewSet, basename="maintenance-window")
router.register("performance/exclusions", ExclusionViewSet, basename="performance-exclusion")
router.register("performance/site-visits", SiteVisitViewSet, basename="performance-site-visit")
router.register("telemetry/state-changes", StateChangeViewSet, basename="statechange")
router.register("telemetry/heartbeats", HeartbeatViewSet, basename="heartbeat")
router.register("telemetry/signal-readings", SignalReadingViewSet, basename="signalreading")
router.register("telemetry/charges", ChargeViewSet, basename="charge")
# The drivers' app (a platform key): its only two powers.
router.register("webhooks/endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("driver-reports", DriverReportViewSet, basename="driver-report")
router.register("driver-reviews", DriverReviewViewSet, basename="driver-review")

urlpatterns = [
    path("telemetry/", TelemetryIngestView.as_view(), name="telemetry-ingest"),
    path(
        "reports/<int:report_id>/timeline/",
        ReportTimelineViewSet.as_view({"get": "list"}),
        name="report-timeline",
    ),
    path(
        "reports/<int:report_id>/messages/",
        ReportMessageViewSet.as_view({"get": "list", "post": "create"}),
        name="report-messages",
    ),
    path(
        "charge-points/<int:charge_point_id>/commands/",
        RemoteCommandViewSet.as_view({"get": "list", "post": "create"}),
        name="charge-point-commands",
    ),
    path(
        "charge-points/<int:charge_point_id>/commands/<int:pk>/",
        RemoteCommandViewSet.as_view({"get": "retrieve"}),
        name="charge-point-command",
    ),
    path("teams/<int:team_id>/report-settings/", ReportSettingsView.as_view(), name="team-report-settings"),
    path("charge-points/<int:charge_point_id>/performance/", ChargePointPerformanceView.as_view(),
         name="charge-point-performance"),
    path("sites/<int:site_id>/performance/", SitePerformanceView.as_view(), name="site-performance"),
    path("teams/<int:team_id>/performance/", TeamPerformanceView.as_view(), name="team-performance"),
    path("teams/<int:team_id>/response-times/", ResponseTimesView.as_view(), name="team-response-times"),
    *router.urls,
    # Last: anything else under /api/v1/ is a JSON 404, not Django's HTML page.
    re_path(r"^.*$", api_not_found),
]
