"""anymail's tracking and inbound signals, handed straight to the services."""

from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent

from .tracking import notification_record_tracking


def on_tracking_event(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    notification_record_tracking(event=event, esp_name=esp_name)


def on_inbound_event(sender, event: AnymailInboundEvent, esp_name: str, **kwargs) -> None:
    from .inbound import inbound_email_receive

    inbound_email_receive(message=event.message)
