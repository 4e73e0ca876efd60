"""anymail's tracking signal, handed straight to the service."""

from anymail.signals import AnymailTrackingEvent

from .services import notification_record_tracking


def on_tracking_event(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    notification_record_tracking(event=event, esp_name=esp_name)
