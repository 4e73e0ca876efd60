"""The report timeline as the outbox (healthchecks' ``Flip``): reporting only
writes ``ReportEvent`` rows; this module claims the unprocessed ones and turns
them into e-mails in the same transaction, so each event is processed exactly
once, however many workers and sweeps run at the same time."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from reporting.catalogue import Party
from reporting.models import EventKind, Report, ReportEvent

from . import digests
from .audience import notification_audience, report_settings_by_team
from .models import Notification, NotificationKind
from .rendering import _render
from .services import queueing

# Events per transaction: a burst of a thousand filed reports is a handful of
# batches, each a few statements.
BATCH = 500


def _claim(*, now: datetime, limit: int) -> list[int]:
    """Mark up to ``limit`` unprocessed events as processed and return their
    ids. The UPDATE is the claim: on PostgreSQL rows another transaction holds
    are skipped; SQLite lets one writer in at a time."""
    table = ReportEvent._meta.db_table
    lock = "FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET processed_at = %s WHERE id IN ("
            f"SELECT id FROM {table} WHERE processed_at IS NULL ORDER BY id LIMIT %s {lock}) "
            "RETURNING id",
            [ReportEvent._meta.get_field("processed_at").get_db_prep_save(now, connection), limit],
        )
        return sorted(row[0] for row in cursor.fetchall())


def notifications_process_events(*, batch: int = BATCH, max_batches: int = 20, now: datetime | None = None) -> int:
    """Process new timeline events into outbox rows; returns how many events
    were processed. Called on commit of every report change and by the
    periodic sweep, which catches up whatever a lost task left."""
    processed = 0
    for _ in range(max_batches):
        with transaction.atomic():
            at = now or timezone.now()
            ids = _claim(now=at, limit=batch)
            if not ids:
                break
            events = list(ReportEvent.objects.filter(pk__in=ids).order_by("id"))
            by_id = Report.objects.with_context().in_bulk({event.report_id for event in events})
            for event in events:
                event.report = by_id[event.report_id]
            notifications_for_report_events(events=events, now=at)
            processed += len(ids)
        if len(ids) < batch:
            break
    return processed


def notifications_for_report_events(
    *, events: list[ReportEvent], now: datetime | None = None
) -> list[Notification]:
    """Write the outbox rows that timeline events cause, and queue them for
    sending when the surrounding transaction commits:

    - to teams' contacts (see ``notification_audience``), in one statement,
      or into the team's digest (``notifications/digests.py``) when the team
      wants digests or is in a burst of new reports;
    - to the drivers who filed a resolved user report (``notifications/drivers.py``);
    - support's replies in a conversation, to the driver (``notifications/conversations.py``).

    The events' reports must come with their charge point and teams
    (``Report.objects.with_context()``)."""
    from .conversations import notification_for_conversation_message
    from .drivers import notifications_for_driver_resolution

    extra: list[Notification] = []
    for event in events:
        if event.kind == EventKind.MESSAGE:
            row = notification_for_conversation_message(event=event)
            if row is not None:
                extra.append(row)
    events = [event for event in events if event.kind in NotificationKind.values]
    if not events:
        return extra
    team_ids = {
        team_id for event in events if event.report.charge_point_id
        for team_id in (event.report.charge_point.operator_id, event.report.charge_point.owner_id)
    }
    settings_by_team = report_settings_by_team(team_ids=team_ids)
    now = now or timezone.now()
    bursting = digests.teams_in_burst(settings_by_team=settings_by_team, now=now)
    open_teams = digests.open_digest_team_ids(team_ids=team_ids, now=now)
    collected: dict[int, tuple] = {}  # team id -> (team, [events])
    rows = []
    for event in events:
        per_event = []
        digested = set()
        for audience in notification_audience(event=event, settings_by_team=settings_by_team):
            if digests.collects(
                kind=event.kind, team_id=audience.team.pk, settings_by_team=settings_by_team, bursting=bursting, open_teams=open_teams
            ):
                collected.setdefault(audience.team.pk, (audience.team, []))[1].append(event)
                digested.update(contact.email.lower() for contact in audience.contacts)
                continue
            # The e-mail is the same for every contact of a team: render it once.
            subject, body_text, body_html = _render(kind=event.kind, event=event, team=audience.team)
            for contact in audience.contacts:
                per_event.append(
                    Notification(
                        report_id=event.report_id,
                        event=event,
                        kind=event.kind,
                        team=audience.team,
                        contact=contact,
                        recipient_name=contact.name,
                        recipient_email=contact.email.lower(),
                        language=audience.team.language,
                        subject=subject,
                        body_text=body_text,
                        body_html=body_html,
                        next_attempt_at=event.created_at,
                    )
                )
        # A contact in both teams is e-mailed once per event.
        unique = {row.recipient_email: row for row in per_event}
        rows.extend(unique.values())
        # A missed target that escalates to support: support hears of it too.
        rows.extend(_support_copy(event=event, skip=set(unique)))
        # The drivers who filed a resolved user report hear about it too.
        extra.extend(notifications_for_driver_resolution(event=event, skip=set(unique) | digested))
    for team, team_events in collected.values():
        digests.digest_add(team=team, events=team_events, settings_by_team=settings_by_team, now=now)
    if not rows:
        return extra
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created]
    transaction.on_commit(lambda: queueing.enqueue_send(ids))
    return created + extra


def _support_copy(*, event: ReportEvent, skip: set[str]) -> list[Notification]:
    """Support's e-mail about a missed response-time target whose escalation
    is "e-mail support" (the timeline row names support as ``to_party``),
    to RESPONSE_TARGETS_SUPPORT_EMAIL, in English."""
    address = settings.RESPONSE_TARGETS_SUPPORT_EMAIL.strip().lower()
    if event.kind != EventKind.TARGET_MISSED or event.to_party != Party.SUPPORT or not address or address in skip:
        return []
    cp = event.report.charge_point
    if cp is None:
        return []
    subject, body_text, body_html = _render(kind=event.kind, event=event, team=cp.operator, to_support=True)
    return [
        Notification(
            report_id=event.report_id, event=event, kind=event.kind, team=None, contact=None,
            recipient_name="Support", recipient_email=address, language="en", subject=subject,
            body_text=body_text, body_html=body_html, next_attempt_at=event.created_at,
        )
    ]
