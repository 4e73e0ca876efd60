"""Writes on webhooks, one module per concern; every name is also importable
from here (``from webhooks.services import endpoint_create``):

- ``endpoints``: registering endpoints, their secrets, test events and
  sending a failed delivery again, and who may (``endpoint_may_manage``).
- ``deliveries``: turning report timeline rows into deliveries
  (``deliveries_for_events``), with their ``webhook-id`` and body.
- ``sending``: claiming due deliveries, sending each exactly once on
  success, retrying with backoff, switching off an endpoint that keeps
  failing (``deliveries_claim``, ``delivery_send``, ``deliveries_send_many``,
  ``deliveries_send_due``).
- ``notices``: e-mailing a team whose endpoint was switched off
  (``notices_send_pending``).

How a delivery travels (docs/webhooks.md):

1. A report change writes its timeline row; ``reporting.hooks`` calls
   ``deliveries_for_events`` in the same transaction, which writes one
   ``WebhookDelivery`` per active endpoint of the report's teams that
   subscribed to the event, with its ``webhook-id`` and body. The change
   and its deliveries commit or roll back together, so no row is missed or
   seen twice whatever order concurrent transactions commit in.
2. On commit the ids go to the ``webhooks.deliver`` task (queue
   ``webhooks``); every minute ``webhooks.sweep`` takes what is due (lost
   tasks, retries whose backoff is over, rows of a dead worker).
3. A worker claims rows with a lease (``SELECT ... FOR UPDATE SKIP LOCKED``
   then an UPDATE to ``sending``), renews the lease just before each POST
   and records the outcome only while it still holds the row. 2xx:
   succeeded, never sent again. Otherwise a retry after an exponential
   backoff with jitter; 410 Gone or a day of failures switches the
   endpoint off and e-mails its team's report contacts.
"""

# The errors the services raise, still found here as before the split.
from core.errors import Conflict, Invalid, NotAllowed

from .deliveries import DELIVER_TASK, deliveries_for_events, new_webhook_id
from .endpoints import (
    AUDITED_FIELDS,
    WebhookError,
    delivery_retry,
    endpoint_create,
    endpoint_delete,
    endpoint_may_manage,
    endpoint_rotate_secret,
    endpoint_send_test,
    endpoint_update,
    endpoint_validate,
)
from .notices import notice_recipients, notices_send_pending
from .sending import (
    NOTICES_TASK,
    SWEEP_BATCH,
    USER_AGENT,
    backoff,
    deliveries_claim,
    deliveries_send_due,
    deliveries_send_many,
    delivery_send,
    lease,
)

__all__ = [
    "AUDITED_FIELDS",
    "DELIVER_TASK",
    "NOTICES_TASK",
    "SWEEP_BATCH",
    "USER_AGENT",
    "Conflict",
    "Invalid",
    "NotAllowed",
    "WebhookError",
    "backoff",
    "deliveries_claim",
    "deliveries_for_events",
    "deliveries_send_due",
    "deliveries_send_many",
    "delivery_retry",
    "delivery_send",
    "endpoint_create",
    "endpoint_delete",
    "endpoint_may_manage",
    "endpoint_rotate_secret",
    "endpoint_send_test",
    "endpoint_update",
    "endpoint_validate",
    "lease",
    "new_webhook_id",
    "notice_recipients",
    "notices_send_pending",
]
