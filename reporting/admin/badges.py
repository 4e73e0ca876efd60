"""A report's state and source as coloured labels, the same on every list
and page that shows them (``core.admin.badges``)."""

from __future__ import annotations

from core.admin.badges import BLUE, GREEN, GREY, ORANGE, PRIMARY, choice_badge
from reporting.catalogue import Source
from reporting.models import Report, ReportState

# Open waits for someone (orange), assigned is in hand (blue), resolved is done.
STATE_COLOURS = {ReportState.OPEN: ORANGE, ReportState.ASSIGNED: BLUE, ReportState.RESOLVED: GREEN}
# Found by a health check, filed by a driver, or opened by support.
SOURCE_COLOURS = {Source.SYSTEM: PRIMARY, Source.USER: BLUE, Source.SUPPORT: GREY}


def report_state_badge():
    """A list column (for ``list_display``) with a report's state as a label."""
    return choice_badge(Report, "state", {str(k): v for k, v in STATE_COLOURS.items()})


def report_source_badge():
    """A list column (for ``list_display``) with a report's source as a label."""
    return choice_badge(Report, "source", {str(k): v for k, v in SOURCE_COLOURS.items()})
