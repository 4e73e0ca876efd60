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
