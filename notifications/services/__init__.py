"""Writes on the outbox: sending the e-mails a report event causes exactly
once, retrying, and support's "send again". One module per concern; every
name is also importable from here (``from notifications.services import
notifications_send_due``):

- ``queueing``: handing committed rows to a worker (``enqueue_send``), an
  e-mail to a team's report contacts that is not about a report
  (``notifications_queue_for_team``) and support's send-again of a failed
  row (``notification_retry``).
- ``claims``: taking a row for sending with a conditional UPDATE and a
  lease, and fixing its Message-ID (``notification_claim``).
- ``mail``: the e-mail itself and one connection per run of sends
  (``MailConnection``, ``make_message_id``, ``NOTIFICATION_ID_HEADER``).
- ``sending``: one row, one task's rows, and the periodic sweep
  (``notification_send``, ``notifications_send_many``,
  ``notifications_send_due``).
- ``failures``: permanent errors, the backoff, retrying or giving up
  (``backoff``, ``is_permanent_smtp_error``, ``MAX_ATTEMPTS``).

Which e-mails an event causes is decided elsewhere: ``notifications/events.py``
(with ``audience.py`` and ``rendering.py``); what the provider says
afterwards is ``notifications/tracking.py``.

How a notification travels:

1. A report change writes its timeline row (``ReportEvent``) and, on commit,
   queues the ``notifications.process_events`` task by name. The timeline
   is the outbox: ``notifications_process_events`` (``notifications/events.py``)
   claims unprocessed rows and, in the same transaction, writes one
   ``Notification`` row per recipient (``notifications_for_report_events``).
   A lost task costs nothing: the periodic sweep processes what is left.
2. On commit, the ids go to the ``notifications_send`` Celery task. If the
   broker is unreachable the rows simply wait: nothing is lost.
3. ``notification_send`` claims a row with a conditional UPDATE
   (pending -> sending, with a fresh claim token and a lease), sends it, and
   marks it sent with the provider's message id. A second worker holding the
   same id finds the row already claimed and leaves it alone.
4. Every minute ``notifications_send_due`` (Celery beat) sends what is due:
   rows whose task was lost, retries whose backoff is over, and rows whose
   worker died mid-send (lease expired).
5. The provider's tracking webhook reports delivered / bounced / complained
   through ``notification_record_tracking``.
"""

from .claims import lease, notification_claim
from .failures import (
    MAX_ATTEMPTS,
    MAX_BACKOFF,
    PERMANENT_ERRORS,
    backoff,
    first_backoff,
    is_permanent_smtp_error,
)
from .mail import NOTIFICATION_ID_HEADER, MailConnection, make_message_id
from .queueing import SEND_TASK, enqueue_send, notification_retry, notifications_queue_for_team
from .sending import SWEEP_BATCH, notification_send, notifications_send_due, notifications_send_many

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_BACKOFF",
    "NOTIFICATION_ID_HEADER",
    "PERMANENT_ERRORS",
    "SEND_TASK",
    "SWEEP_BATCH",
    "MailConnection",
    "backoff",
    "enqueue_send",
    "notifications_queue_for_team",
    "first_backoff",
    "is_permanent_smtp_error",
    "lease",
    "make_message_id",
    "notification_claim",
    "notification_retry",
    "notification_send",
    "notifications_send_due",
    "notifications_send_many",
]

# Not public, but imported from the package before it was split: still found here.
from .mail import _message  # noqa: E402, F401
