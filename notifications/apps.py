from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # anymail reports delivery, bounces and complaints through a signal;
        # the receiver only hands the event to the service.
        from anymail.signals import inbound, tracking

        from .receivers import on_inbound_event, on_tracking_event

        tracking.connect(on_tracking_event, dispatch_uid="notifications.on_tracking_event")

        # Register the tasks in every process, not only in workers: report
        # changes queue them by name, and eager mode (tests, a one-process
        # setup) runs only tasks the process knows.
        from . import checks, tasks  # noqa: F401
        # Inbound e-mail to the support address (Postmark's inbound webhook).
        inbound.connect(on_inbound_event, dispatch_uid="notifications.on_inbound_event")
