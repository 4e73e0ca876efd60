from django.apps import AppConfig


class ChargepointsConfig(AppConfig):
    name = "chargepoints"
    verbose_name = "Charge points"
