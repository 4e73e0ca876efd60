"""From the report timeline to deliveries: ``deliveries_for_events`` writes
one ``WebhookDelivery`` per subscribed endpoint of the report's teams, in
the transaction that writes the timeline rows (``reporting.hooks``), with
its ``webhook-id`` and JSON body, and queues them for sending on commit.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from django.db.models import Q

from accounts.permissions import person_label
from core.tasks import enqueue_on_commit
from reporting.models import ReportEvent
from reporting.querysets import team_reports_q

from ..models import EVENT_TYPE_FOR_KIND, WebhookDelivery, WebhookEndpoint

# Queued by name: tasks.py imports this module, not the other way round.
DELIVER_TASK = "webhooks.deliver"



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
    the event (the report's team columns, as ``ReportQuerySet.for_teams``
    reads them: a site report's are its site's team). One query when no
    endpoint is active at all (a tiny index lookup, the common case), two
    when none of the reports' teams wants the rows, four when some do,
    whatever their number; none for a kind that is never sent. Returns the
    rows written."""
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
        Q(team_id__in=rows_qs.values("report__owner_team_id"))
        | Q(team_id__in=rows_qs.values("report__operator_team_id")),
        is_active=True,
    ).only("pk", "team_id", "events"):
        if event_type in endpoint.events:
            endpoints_by_team.setdefault(endpoint.team_id, []).append(endpoint)
    if not endpoints_by_team:
        return 0
    teams = list(endpoints_by_team)
    events = list(
        rows_qs.filter(team_reports_q(teams, prefix="report__")).select_related("report__charge_point", "actor")
    )
    rows = []
    for event in events:
        report = event.report
        body = _body(event_type, event.created_at, _event_data(event))
        for team_id in {report.owner_team_id, report.operator_team_id} - {None}:
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
