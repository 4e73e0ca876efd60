from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GatewayConfig(AppConfig):
    name = "gateway"
    verbose_name = _("OCPP gateway")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from reporting import hooks

        from .commands import self_heal_on_timeline

        if self_heal_on_timeline not in hooks.system_reports_filed:
            hooks.system_reports_filed.append(self_heal_on_timeline)
