"""The reporting back-office on /admin/ and /operator/: reports (list, page,
actions), report settings, health-check thresholds and schedules (support
only) and the dashboard. Django's autodiscovery imports this package; each
module registers its admins."""

from accounts.admin_sites import operator_site, support_site

from . import charge_points, error_hints, health, maintenance, reports, settings, targets  # noqa: F401  (registers the admins)
from .dashboard import dashboard_context

# The sites belong to accounts, which knows nothing of reports: the reports
# dashboard is plugged in from here.
support_site.dashboard_provider = dashboard_context
operator_site.dashboard_provider = dashboard_context
