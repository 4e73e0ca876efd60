"""The reporting back-office: reports (list, page, actions), report settings
and the dashboard, on /admin/ and /operator/.

Other engineers' admin modules for this app are imported here so Django's
autodiscovery (which imports ``reporting.admin``) registers them too.
"""

from importlib.util import find_spec

from . import reports, settings  # noqa: F401  (registers the admins)

# The health-check thresholds and schedules (support only) live in their own
# module, owned by the health-monitoring work; import it once it exists.
if find_spec("reporting.admin_health") is not None:
    from reporting import admin_health  # noqa: F401
