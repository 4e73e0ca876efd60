"""The reporting back-office on /admin/ and /operator/: reports (list, page,
actions), report settings, health-check thresholds and schedules (support
only) and the dashboard. Django's autodiscovery imports this package; each
module registers its admins."""

from accounts.admin_sites import operator_site, support_site

from . import charge_points, error_hints, health, maintenance, reports, settings, targets  # noqa: F401  (registers the admins)
from .dashboard import dashboard_context

# The sites belong to accounts, which knows nothing of reports: the reports
# dashboard, and the reports list first in the sidebar, are plugged in from here.
for _site in (support_site, operator_site):
    _site.dashboard_provider = dashboard_context
    _site.pin_to_sidebar("reporting.Report", icon="flag")
