"""Writes on webhooks: registering endpoints, their secrets, turning report
timeline rows into deliveries, sending them exactly once on success, and
switching off an endpoint that keeps failing.

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

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditAction, Membership, Role, Team, User
from accounts.permissions import Capability, can_on_team, person_label
from core.errors import Conflict, Invalid, NotAllowed
from core.tasks import enqueue_on_commit
from reporting.models import ReportEvent
from reporting.settings_models import ReportContact

from . import transport
from .addresses import check_url
from .models import (
    EVENT_TYPE_FOR_KIND,
    SUBSCRIBABLE_EVENTS,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from .signing import new_secret, signature_header

logger = logging.getLogger(__name__)

# Queued by name: tasks.py imports this module, not the other way round.
DELIVER_TASK = "webhooks.deliver"
NOTICES_TASK = "webhooks.send_notices"
SWEEP_BATCH = 20
USER_AGENT = "ChargePointReports-Webhooks/1"
AUDITED_FIELDS = ("url", "events", "description", "is_active")


class WebhookError(Invalid):
    """The webhook action was refused; nothing was written."""


# --- Endpoints ----------------------------------------------------------------


def endpoint_may_manage(*, actor, team_id: int) -> bool:
    """Support (and the system) manage every team's endpoints; a team's
    admins and owners theirs."""
    return can_on_team(actor, Capability.EDIT_ASSETS, team_id=team_id)


def _require_manager(by, team_id: int, action: str) -> None:
    if not endpoint_may_manage(actor=by, team_id=team_id):
        raise NotAllowed(f"You are not allowed to {action} this team's webhook endpoints.")


def endpoint_validate(*, team: Team | None, url: str, events: list[str], by) -> tuple[str, list[str]]:
    """Raise unless ``by`` may register such an endpoint; the cleaned URL
    and events. The admin form calls it to show errors on the fields."""
    if team is None:
        raise WebhookError("Choose the team the endpoint belongs to.", field="team")
    _require_manager(by, team.pk, "register")
    url = (url or "").strip()
    if len(url) > 2000:
        raise WebhookError("A webhook URL has at most 2,000 characters.", field="url")
    check_url(url)
    if not isinstance(events, list | tuple) or not events:
        raise WebhookError("Choose at least one event to send.", field="events")
    unknown = sorted(set(events) - set(SUBSCRIBABLE_EVENTS))
    if unknown:
        raise WebhookError(f"Unknown event types: {', '.join(map(str, unknown))}.", field="events")
    return url, [e for e in SUBSCRIBABLE_EVENTS if e in events]


@transaction.atomic
def endpoint_create(
    *, team: Team, url: str, events: list[str], by, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its secret, to show once."""
    url, events = endpoint_validate(team=team, url=url, events=events, by=by)
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        team=team, url=url, events=events, description=(description or "").strip()[:200], secret=secret,
        created_by=by if isinstance(by, User) else None,
    )
    audit_record(by=by, action=AuditAction.CREATE, obj=endpoint, team=team,
                 changes={name: {"before": None, "after": getattr(endpoint, name)} for name in AUDITED_FIELDS})
    return endpoint, secret


def _locked(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)


@transaction.atomic
def endpoint_update(
    *, endpoint: WebhookEndpoint, by, url: str | None = None, events: list[str] | None = None,
    description: str | None = None, is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint. Switching it back on starts a fresh day before
    it can be switched off again; the deliveries failed meanwhile stay failed."""
    current = _locked(endpoint)
    _require_manager(by, current.team_id, "change")
    before = {name: getattr(current, name) for name in AUDITED_FIELDS}
    new_url, new_events = endpoint_validate(
        team=current.team, url=current.url if url is None else url,
        events=current.events if events is None else events, by=by,
    )
    current.url, current.events = new_url, new_events
    if description is not None:
        current.description = description.strip()[:200]
    if is_active is not None and is_active != current.is_active:
        current.is_active = is_active
        current.failing_since = None
        if is_active:
            current.disabled_at, current.disabled_reason = None, ""
            current.disabled_notice_pending = False  # someone already knows
        else:
            current.disabled_at, current.disabled_reason = timezone.now(), f"Switched off by {by}."[:300]
    current.save()
    after = {name: getattr(current, name) for name in AUDITED_FIELDS}
    changes = {k: {"before": before[k], "after": after[k]} for k in AUDITED_FIELDS if before[k] != after[k]}
    if changes:
        audit_record(by=by, action=AuditAction.UPDATE, obj=current, team=current.team_id, changes=changes)
    return current


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, by) -> None:
    """Delete an endpoint with its delivery log."""
    current = _locked(endpoint)
    _require_manager(by, current.team_id, "delete")
    audit_record(by=by, action=AuditAction.DELETE, obj=current, team=current.team_id,
                 changes={"url": {"before": current.url, "after": None}})
    current.delete()


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, by, now: datetime | None = None) -> str:
    """Give the endpoint a new secret and return it (shown once). For
    WEBHOOKS_SECRET_GRACE_SECONDS, deliveries carry a signature with each
    of the two secrets, so the receiver can switch over without a gap."""
    now = now or timezone.now()
    current = _locked(endpoint)
    _require_manager(by, current.team_id, "rotate the secret of")
    secret = new_secret()
    current.previous_secret = current.secret
    current.previous_secret_expires_at = now + timedelta(seconds=settings.WEBHOOKS_SECRET_GRACE_SECONDS)
    current.secret = secret
    current.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    audit_record(by=by, action=AuditAction.UPDATE, obj=current, team=current.team_id,
                 changes={"secret": {"before": "(former secret)", "after": "(new secret)"}},
                 note="Secret rotated.")
    endpoint.secret = secret
    return secret


@transaction.atomic
def endpoint_send_test(*, endpoint: WebhookEndpoint, by) -> WebhookDelivery:
    """Queue a ``webhook.test`` delivery; it shows in the delivery log."""
    current = _locked(endpoint)
    _require_manager(by, current.team_id, "send a test event to")
    if not current.is_active:
        raise Conflict("The endpoint is switched off: switch it on before sending a test event.")
    now = timezone.now()
    webhook_id = new_webhook_id()
    body = _body(WebhookEventType.TEST, now, {
        "endpoint": {"id": current.pk, "url": current.url},
        "team": {"id": current.team_id},
        "message": "A test event sent from the back-office or the API.",
    })
    delivery = WebhookDelivery.objects.create(
        endpoint=current, event=None, event_type=WebhookEventType.TEST, webhook_id=webhook_id, body=body,
    )
    enqueue_on_commit(DELIVER_TASK, [delivery.pk])
    return delivery


@transaction.atomic
def delivery_retry(*, delivery: WebhookDelivery, by) -> WebhookDelivery:
    """Send a failed delivery again, with its own webhook-id and body (a
    receiver that did get it can still drop it), and a fresh set of attempts."""
    row = WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    _require_manager(by, row.endpoint.team_id, "send again the deliveries of")
    if row.status != DeliveryStatus.FAILED:
        raise Conflict("Only a failed delivery can be sent again; this one is "
                       f"{row.get_status_display().lower()}.")
    if not row.endpoint.is_active:
        raise Conflict("The endpoint is switched off: switch it on before sending again.")
    row.status, row.attempts, row.next_attempt_at = DeliveryStatus.PENDING, 0, timezone.now()
    row.last_error = ""
    row.save(update_fields=["status", "attempts", "next_attempt_at", "last_error"])
    audit_record(by=by, action=AuditAction.UPDATE, obj=row.endpoint, team=row.endpoint.team_id,
                 changes={"delivery": {"before": DeliveryStatus.FAILED, "after": DeliveryStatus.PENDING}},
                 note=f"Delivery {row.webhook_id} sent again.")
    enqueue_on_commit(DELIVER_TASK, [row.pk])
    return row


# --- From the timeline to deliveries ------------------------------------------


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _body(event_type: str, at: datetime, data: dict) -> str:
    return json.dumps({"type": str(event_type), "timestamp": _iso(at), "data": data}, separators=(",", ":"))


def _event_data(event: ReportEvent) -> dict:
    report = event.report
    cp = report.charge_point
    return {
        "report": {
            "id": report.pk,
            "source": report.source,
            "reason": report.reason,
            "state": report.state,
            "assigned_party": report.assigned_party,
            "created_at": _iso(report.created_at),
            "resolved_at": _iso(report.resolved_at),
            "charge_point": None if cp is None else {"id": cp.pk, "name": cp.name, "ocpp_id": cp.ocpp_id},
        },
        "event": {
            "id": event.pk,
            "kind": event.kind,
            # As the API's timeline shows it to teams: a name, never an address.
            "actor_label": person_label(event.actor, for_support=False) if event.actor_id else event.actor_label,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "from_party": event.from_party,
            "to_party": event.to_party,
            "note": event.note,
            "created_at": _iso(event.created_at),
        },
    }


def deliveries_for_events(*, event_ids: list[int], kind: str) -> int:
    """The deliveries of new timeline rows, written in the caller's
    transaction (``reporting.hooks.timeline_listeners``): one per active
    endpoint of the report's owner and operator teams that subscribed to
    the event. One query when no endpoint is active at all (a tiny index
    lookup, the common case), two when none of the reports' teams wants the
    rows, four when some do, whatever their number; none for a kind that is
    never sent. Returns the rows written."""
    event_type = EVENT_TYPE_FOR_KIND.get(kind)
    if event_type is None or not event_ids:
        return 0
    # A sweep files a thousand reports: skip the join over their rows
    # when no team has an endpoint to send them to.
    if not WebhookEndpoint.objects.filter(is_active=True).exists():
        return 0
    # First the endpoints (one small query, usually empty), then the rows
    # only if some endpoint wants them.
    rows_qs = ReportEvent.objects.filter(pk__in=event_ids).order_by()
    endpoints_by_team: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(
        Q(team_id__in=rows_qs.values("report__charge_point__owner_id"))
        | Q(team_id__in=rows_qs.values("report__charge_point__operator_id")),
        is_active=True,
    ).only("pk", "team_id", "events"):
        if event_type in endpoint.events:
            endpoints_by_team.setdefault(endpoint.team_id, []).append(endpoint)
    if not endpoints_by_team:
        return 0
    teams = list(endpoints_by_team)
    events = list(
        rows_qs.filter(Q(report__charge_point__owner_id__in=teams) | Q(report__charge_point__operator_id__in=teams))
        .select_related("report__charge_point", "actor")
    )
    rows = []
    for event in events:
        cp = event.report.charge_point
        body = _body(event_type, event.created_at, _event_data(event))
        for team_id in {cp.owner_id, cp.operator_id} - {None}:
            for endpoint in endpoints_by_team.get(team_id, ()):
                rows.append(WebhookDelivery(
                    endpoint_id=endpoint.pk, event_id=event.pk, event_type=event_type,
                    webhook_id=new_webhook_id(), body=body,
                ))
    created = WebhookDelivery.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.pk is not None]
    if ids:
        enqueue_on_commit(DELIVER_TASK, ids)
    return len(rows)


# --- Sending ------------------------------------------------------------------


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


# --- Telling the team ---------------------------------------------------------


def notice_recipients(team_id: int) -> list[str]:
    """The team's report contacts; without any, its owners and admins."""
    emails = list(ReportContact.objects.filter(settings__team_id=team_id).values_list("email", flat=True))
    if not emails:
        emails = list(
            Membership.objects.filter(team_id=team_id, role__in=[Role.OWNER, Role.ADMIN], user__is_active=True)
            .values_list("user__email", flat=True)
        )
    return sorted(set(emails))


def notices_send_pending() -> int:
    """E-mail the contacts of each switched-off endpoint's team once. The
    row stays locked while the e-mail goes out and is marked sent in the
    same transaction: a failure leaves it pending for the next sweep."""
    sent = 0
    pending = list(WebhookEndpoint.objects.filter(disabled_notice_pending=True).values_list("pk", flat=True)[:100])
    for endpoint_id in pending:
        try:
            with transaction.atomic():
                endpoint = (WebhookEndpoint.objects.select_for_update(skip_locked=True)
                            .select_related("team").filter(pk=endpoint_id, disabled_notice_pending=True).first())
                if endpoint is None:
                    continue
                recipients = notice_recipients(endpoint.team_id)
                if recipients:
                    EmailMessage(
                        subject=f"Webhook endpoint switched off: {endpoint.url}"[:300],
                        body=(
                            f"The webhook endpoint {endpoint.url} of {endpoint.team.name} was switched off"
                            f" on {endpoint.disabled_at:%Y-%m-%d %H:%M} UTC.\n\n"
                            f"Reason: {endpoint.disabled_reason}\n\n"
                            "No more events are sent to it. Once the receiver works again, switch the endpoint"
                            " back on in the back-office (Webhooks) or through the API, and send a test event.\n"
                        ),
                        from_email=settings.DEFAULT_FROM_EMAIL,
                        to=recipients,
                    ).send()
                endpoint.disabled_notice_pending = False
                endpoint.save(update_fields=["disabled_notice_pending"])
                sent += 1
        except Exception:
            logger.warning("Could not e-mail the switched-off notice of endpoint %s; the next sweep retries.",
                           endpoint_id, exc_info=True)
    return sent
