"""Writes on reports. Every rule about creating and moving reports lives in
this package; the admin, the API and the health checks call its functions,
imported from here or from the module that holds them:

- ``filing``: filing a report (``report_create``, ``report_validate_reason``)
  and the health sweep's bulk filing (``report_file_system_bulk``,
  ``report_file_site_reports``), routed to the first party.
- ``transitions``: assign, resolve and reopen, under a row lock
  (``report_assign``, ``report_validate_person``, ``report_resolve``,
  ``report_reopen``).
- ``conversation``: internal comments and a support report's messages
  (``report_comment``, ``report_add_message``).
- ``access``: who may act on a report or speak for support
  (``report_allows``, ``report_site_allows``, ``report_site_team_ids``,
  ``report_require_speaker``).
- ``timeline``: the timeline rows every write leaves, which are the outbox
  for notifications and webhooks (``actor_label``, ``report_system_event``,
  ``report_timeline_note``, ``report_system_events_bulk``).

Each function runs in one transaction, writes the timeline row beside the
change, and leaves nothing written when it raises.
"""

from ..errors import (
    InvalidReport,
    NotPermitted,
    OpenReportExists,
    PersonNotInParty,
    ReportChanged,
    TransitionNotAllowed,
)
from .access import report_allows, report_require_speaker, report_site_allows, report_site_team_ids
from .conversation import report_add_message, report_comment
from .filing import report_create, report_file_site_reports, report_file_system_bulk, report_validate_reason
from .timeline import (
    EVENTS_TASK,
    SYSTEM_LABEL,
    actor_label,
    report_system_event,
    report_system_events_bulk,
    report_timeline_note,
)
from .transitions import (
    TRANSITION_FIELDS,
    report_assign,
    report_reopen,
    report_resolve,
    report_validate_person,
)

__all__ = [
    "EVENTS_TASK",
    "SYSTEM_LABEL",
    "TRANSITION_FIELDS",
    "InvalidReport",
    "NotPermitted",
    "OpenReportExists",
    "PersonNotInParty",
    "ReportChanged",
    "TransitionNotAllowed",
    "actor_label",
    "report_add_message",
    "report_allows",
    "report_assign",
    "report_comment",
    "report_create",
    "report_file_site_reports",
    "report_file_system_bulk",
    "report_reopen",
    "report_require_speaker",
    "report_resolve",
    "report_site_allows",
    "report_site_team_ids",
    "report_system_event",
    "report_system_events_bulk",
    "report_timeline_note",
    "report_validate_person",
    "report_validate_reason",
]

# Not public, but imported from the package before it was split: still found here.
from .conversation import _add_message  # noqa: E402, F401
from .timeline import _event  # noqa: E402, F401
