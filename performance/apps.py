from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = _("Performance")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Recording telemetry and changing maintenance windows mark the days
        # whose rollups are out of date (both apps sit below this one).
        from chargepoints import hooks as chargepoint_hooks
        from reporting import hooks as reporting_hooks

        from .rollups import maintenance_window_mark_dirty, telemetry_mark_dirty
        from .teams import rollups_follow_charge_point

        if telemetry_mark_dirty not in chargepoint_hooks.telemetry_recorded:
            chargepoint_hooks.telemetry_recorded.append(telemetry_mark_dirty)
        if maintenance_window_mark_dirty not in reporting_hooks.maintenance_windows_changed:
            reporting_hooks.maintenance_windows_changed.append(maintenance_window_mark_dirty)
        # The rollups carry their charge point's teams; a move rewrites them
        # in the move's transaction.
        if rollups_follow_charge_point not in chargepoint_hooks.charge_point_moved:
            chargepoint_hooks.charge_point_moved.append(rollups_follow_charge_point)
