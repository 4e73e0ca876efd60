from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "gateway"
    verbose_name = "OCPP gateway"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from reporting.services import SYSTEM_REPORTS_FILED

        from .commands import self_heal_on_timeline

        if self_heal_on_timeline not in SYSTEM_REPORTS_FILED:
            SYSTEM_REPORTS_FILED.append(self_heal_on_timeline)
