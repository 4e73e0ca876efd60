from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = _("Reports")

    def ready(self):
        # A new team gets its report settings in team_create's transaction
        # (accounts sits below reporting, so it cannot call us by name).
        from accounts.team_services import team_created
        from reporting.settings_services import report_settings_for_new_team

        team_created.connect(report_settings_for_new_team, dispatch_uid="reporting.settings_for_new_team")

        # The charge point API shows the error hint; the catalogue is ours.
        from chargepoints.api import serializers as charge_point_serializers
        from reporting.error_hint_selectors import error_hints_for_charge_points

        charge_point_serializers.error_hints_provider = error_hints_for_charge_points

        # A report carries its charge point's teams; a move rewrites them
        # in the move's transaction (chargepoints sits below us).
        from chargepoints import hooks as charge_point_hooks
        from reporting.teams import reports_follow_charge_point, reports_follow_site

        if reports_follow_charge_point not in charge_point_hooks.charge_point_moved:
            charge_point_hooks.charge_point_moved.append(reports_follow_charge_point)
        if reports_follow_site not in charge_point_hooks.site_moved:
            charge_point_hooks.site_moved.append(reports_follow_site)
