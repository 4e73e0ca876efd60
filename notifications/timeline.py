"""What the outbox writes on a report's timeline: a row per e-mail sent,
failed or tracked, naming the recipient without their address."""

from __future__ import annotations

from reporting.models import EventKind, ReportEvent

from .models import Notification, NotificationKind

TIMELINE_LABEL = "E-mail"


def timeline_row(notification: Notification, note: str) -> ReportEvent | None:
    """A digest is about many reports: its sending and tracking show in the
    outbox, not on each report's timeline."""
    if notification.report_id is None:
        return None
    return ReportEvent.objects.create(
        report_id=notification.report_id,
        kind=EventKind.NOTIFIED,
        actor_label=TIMELINE_LABEL,
        note=note,
    )


def recipient_label(notification: Notification) -> str:
    """The recipient as the timeline shows it: name and team, no address.
    Both teams of a report read its timeline (and integrators through the
    API); a contact's e-mail address stays in the team-scoped outbox views."""
    if notification.team is None:
        return "the driver"
    return f"{notification.recipient_name or 'a contact'} ({notification.team.name})"


def subject_label(notification: Notification) -> str:
    return {
        NotificationKind.CREATED: "the new report",
        NotificationKind.ASSIGNED: "the assignment",
        NotificationKind.RESOLVED: "the resolution",
        NotificationKind.DRIVER_CONFIRMATION: "their report",
        NotificationKind.DRIVER_RESOLVED: "the resolution",
        NotificationKind.DRIVER_MESSAGE: "support's reply",
        NotificationKind.DIGEST: "the digest",
        NotificationKind.PERFORMANCE: "the monthly performance figures",
    }.get(notification.kind, "the report")
