"""Sending deliveries: claiming due rows with a lease, one signed POST per
attempt, recording the outcome while the row is still held (succeeded,
a retry after a backoff with jitter, or failed), switching off an endpoint
that answers 410 Gone or fails for a day, and the task's and the periodic
sweep's loops.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditAction
from core.errors import Invalid
from core.tasks import enqueue_on_commit

from .. import transport
from ..addresses import check_url
from ..models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ..signing import signature_header
from .deliveries import _iso
from .notices import notices_send_pending

NOTICES_TASK = "webhooks.send_notices"



SWEEP_BATCH = 20



USER_AGENT = "ChargePointReports-Webhooks/1"



def lease() -> timedelta:
    return timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)



def backoff(attempts: int) -> timedelta:
    """Exponential (WEBHOOKS_FIRST_RETRY_SECONDS doubled per attempt, at most
    WEBHOOKS_MAX_RETRY_SECONDS) with jitter: a random point in the upper
    half, so receivers coming back up are not hit by every sender at once."""
    ceiling = min(settings.WEBHOOKS_FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0),
                  settings.WEBHOOKS_MAX_RETRY_SECONDS)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))



def _due(now: datetime):
    return WebhookDelivery.objects.filter(
        Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now),
        endpoint__is_active=True,
    )



def deliveries_claim(*, ids: list[int] | None = None, now: datetime | None = None,
                     limit: int = SWEEP_BATCH) -> tuple[list[int], uuid.UUID | None]:
    """Take due rows for sending: locked with SKIP LOCKED (PostgreSQL), so
    two sweeps at once take different rows, then marked ``sending`` with a
    claim token and a lease. Returns the ids and the token."""
    now = now or timezone.now()
    queryset = _due(now) if ids is None else _due(now).filter(pk__in=ids)
    with transaction.atomic():
        claimed = list(
            queryset.select_for_update(skip_locked=True, of=("self",)).order_by("id").values_list("pk", flat=True)[:limit]
        )
        if not claimed:
            return [], None
        token = uuid.uuid4()
        WebhookDelivery.objects.filter(pk__in=claimed).update(
            status=DeliveryStatus.SENDING, claim_token=token, claimed_until=now + lease(),
        )
    return claimed, token



def delivery_send(*, delivery_id: int, token: uuid.UUID, now: datetime | None = None) -> str:
    """One attempt of a claimed delivery. Returns the outcome: succeeded,
    retry, failed, or lost (another worker holds the row now)."""
    now = now or timezone.now()
    # The lease starts now, for this one attempt: a long batch never lets
    # a row's lease run out while it waits its turn.
    held = WebhookDelivery.objects.filter(
        pk=delivery_id, claim_token=token, status=DeliveryStatus.SENDING, endpoint__is_active=True,
    ).update(claimed_until=now + lease(), attempts=F("attempts") + 1)
    if held != 1:
        return "lost"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    timestamp = int(now.timestamp())
    secrets_ = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets_.append(endpoint.previous_secret)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_=secrets_, webhook_id=delivery.webhook_id, timestamp=timestamp, body=delivery.body),
    }
    try:
        # Checked again now, on the addresses the request will go to.
        target = check_url(endpoint.url)
    except Invalid as error:
        response = transport.Response(None, 0, "", f"Refused: {error.message}")
    else:
        response = transport.post(
            target, body=delivery.body.encode(), headers=headers,
            connect_timeout=settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS,
            read_timeout=settings.WEBHOOKS_READ_TIMEOUT_SECONDS,
        )
    finished = now + timedelta(milliseconds=response.response_ms)
    return _record(delivery, endpoint, token=token, response=response, now=finished)



@transaction.atomic
def _record(delivery: WebhookDelivery, endpoint: WebhookEndpoint, *, token: uuid.UUID,
            response: transport.Response, now: datetime) -> str:
    succeeded = response.status_code is not None and 200 <= response.status_code < 300
    row = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).first()
    if row is None:
        return "lost"  # deleted with its endpoint meanwhile
    WebhookAttempt.objects.create(
        delivery=row, attempted_at=now, url=endpoint.url, status_code=response.status_code,
        response_ms=response.response_ms, response_excerpt=response.excerpt, error=response.error,
        succeeded=succeeded,
    )
    if row.claim_token != token or row.status != DeliveryStatus.SENDING:
        return "lost"  # switched off, or another worker took over after our lease
    row.last_status_code = response.status_code
    row.last_error = response.error or ("" if succeeded else f"HTTP {response.status_code}")
    row.claim_token, row.claimed_until = None, None
    fields = ["last_status_code", "last_error", "claim_token", "claimed_until", "status"]
    if succeeded:
        row.status, row.delivered_at = DeliveryStatus.SUCCEEDED, now
        row.save(update_fields=[*fields, "delivered_at"])
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return "succeeded"
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    failing_since = WebhookEndpoint.objects.filter(pk=endpoint.pk).values_list("failing_since", flat=True).first()
    if response.status_code == 410:
        row.status = DeliveryStatus.FAILED
        row.save(update_fields=fields)
        _switch_off(endpoint.pk, reason="The endpoint answered 410 Gone.", now=now)
        return "failed"
    if failing_since and now - failing_since >= timedelta(seconds=settings.WEBHOOKS_DISABLE_AFTER_SECONDS):
        row.status = DeliveryStatus.FAILED
        row.save(update_fields=fields)
        _switch_off(endpoint.pk, reason=f"Every attempt failed since {_iso(failing_since)}.", now=now)
        return "failed"
    if row.attempts >= settings.WEBHOOKS_MAX_ATTEMPTS:
        row.status = DeliveryStatus.FAILED
        row.save(update_fields=fields)
        return "failed"
    row.status, row.next_attempt_at = DeliveryStatus.PENDING, now + backoff(row.attempts)
    row.save(update_fields=[*fields, "next_attempt_at"])
    return "retry"



def _switch_off(endpoint_id: int, *, reason: str, now: datetime) -> None:
    """Switch an endpoint off (the caller holds the transaction): its
    undelivered rows fail, and its team's report contacts hear of it."""
    switched = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).update(
        is_active=False, disabled_at=now, disabled_reason=reason[:300], disabled_notice_pending=True, updated_at=now,
    )
    if switched != 1:
        return
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    WebhookDelivery.objects.filter(
        endpoint_id=endpoint_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    ).update(status=DeliveryStatus.FAILED, last_error="The endpoint was switched off.", claim_token=None,
             claimed_until=None)
    audit_record(by=None, action=AuditAction.UPDATE, obj=endpoint, team=endpoint.team_id,
                 changes={"is_active": {"before": True, "after": False}}, note=reason)
    enqueue_on_commit(NOTICES_TASK)



def deliveries_send_many(*, delivery_ids: list[int]) -> dict[str, int]:
    """Send the rows a committed change wrote (the ``webhooks.deliver`` task),
    a batch at a time for at most WEBHOOKS_SWEEP_SECONDS: what is left (a
    thousand reports filed at once, a slow receiver) stays pending for the
    sweep instead of holding leases the task may not live to use."""
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    for start in range(0, len(delivery_ids), SWEEP_BATCH):
        if time.monotonic() - started >= settings.WEBHOOKS_SWEEP_SECONDS:
            break
        ids, token = deliveries_claim(ids=delivery_ids[start:start + SWEEP_BATCH])
        for delivery_id in ids:
            outcome = delivery_send(delivery_id=delivery_id, token=token)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes



def deliveries_send_due(*, now: datetime | None = None, budget_seconds: float | None = None) -> dict[str, int]:
    """The periodic sweep: batch after batch of due rows until none is due
    or WEBHOOKS_SWEEP_SECONDS are spent. Also sends the pending notices."""
    budget = settings.WEBHOOKS_SWEEP_SECONDS if budget_seconds is None else budget_seconds
    started = time.monotonic()
    outcomes: dict[str, int] = {}
    while time.monotonic() - started < budget:
        ids, token = deliveries_claim(now=now)
        if not ids:
            break
        for delivery_id in ids:
            outcome = delivery_send(delivery_id=delivery_id, token=token, now=now)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    notices = notices_send_pending()
    if notices:
        outcomes["notices"] = notices
    return outcomes
