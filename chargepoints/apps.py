from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChargepointsConfig(AppConfig):
    name = "chargepoints"
    verbose_name = _("Charge points")
