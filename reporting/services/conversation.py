"""Words on a report: internal comments on the timeline, and the messages
of a support report's conversation with the driver.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from accounts.permissions import Actor, Capability

from ..catalogue import Source
from ..errors import InvalidReport
from ..models import EventKind, Report, ReportEvent, ReportMessage
from .access import _require, report_require_speaker
from .timeline import _event, actor_label


@transaction.atomic
def report_comment(*, report: Report, by: Actor | None, body: str) -> ReportEvent:
    """An internal note on the timeline."""
    _require(by, Capability.COMMENT, report, "comment on")
    body = body.strip()
    if not body:
        raise InvalidReport("A comment cannot be empty.", field="body")
    return _event(report, kind=EventKind.COMMENT, by=by, note=body)



def _add_message(
    report: Report, *, by: Actor | None, sender: str, body: str, author_name: str = ""
) -> ReportMessage:
    if sender not in ReportMessage.Sender.values:
        raise InvalidReport(f"Unknown message sender '{sender}'.", field="sender")
    body = (body or "").strip()
    if not body:
        raise InvalidReport("A message cannot be empty.", field="body")
    if not author_name:
        author_name = actor_label(by) if sender == ReportMessage.Sender.SUPPORT else "Driver"
    message = ReportMessage.objects.create(
        report=report,
        sender=sender,
        author=by if isinstance(by, User) and sender == ReportMessage.Sender.SUPPORT else None,
        author_name=author_name,
        body=body,
    )
    _event(report, kind=EventKind.MESSAGE, by=by, note=f"{author_name}: {body}")
    return message



@transaction.atomic
def report_add_message(
    *, report: Report, by: Actor | None, sender: str, body: str, author_name: str = ""
) -> ReportMessage:
    """Add a message to a support report's conversation."""
    if report.source != Source.SUPPORT:
        raise InvalidReport("Only support reports carry a conversation.", field="report")
    _require(by, Capability.COMMENT, report, "add a message to")
    report_require_speaker(by=by, sender=sender, action="add a message to")
    return _add_message(report, by=by, sender=sender, body=body, author_name=author_name)
