"""Managing a team's webhook endpoints: who may (``endpoint_may_manage``),
registering, changing and deleting them, rotating their secret, sending a
test event, and sending a failed delivery again. Each write is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditAction, Team, User
from accounts.permissions import Capability, can_on_team
from core.errors import Conflict, Invalid, NotAllowed
from core.tasks import enqueue_on_commit

from ..addresses import check_url
from ..models import SUBSCRIBABLE_EVENTS, DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEventType
from ..signing import new_secret
from .deliveries import DELIVER_TASK, _body, new_webhook_id

AUDITED_FIELDS = ("url", "events", "description", "is_active")



class WebhookError(Invalid):
    """The webhook action was refused; nothing was written."""



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
