from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        # Every new timeline row of a report becomes its deliveries in the
        # same transaction (reporting.hooks; see docs/webhooks.md).
        from reporting.hooks import timeline_listeners

        from . import checks, tasks  # noqa: F401  (registered in every process, as notifications does)
        from .services.deliveries import deliveries_for_events

        if deliveries_for_events not in timeline_listeners:
            timeline_listeners.append(deliveries_for_events)
