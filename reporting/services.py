"""Writes on reports. Every rule about creating and moving reports lives here;
the admin, the API and the health checks call these functions.

Each function runs in one transaction, writes the timeline row beside the
change, and leaves nothing written when it raises.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransition
from django_fsm import TransitionNotAllowed as FSMTransitionNotAllowed

from accounts.models import User
from accounts.permissions import Actor, Capability, can_on_charge_point
from chargepoints.models import ChargePoint
from notifications.services import notifications_for_report_event

from .catalogue import REASON_COUNTRIES, REASONS_BY_SOURCE, Party, Reason, Source, first_party
from .errors import InvalidReport, NotPermitted, ReportChanged, TransitionNotAllowed
from .models import (
    EventKind,
    Report,
    ReportContact,
    ReportEvent,
    ReportMessage,
    ReportSettings,
    ReportState,
)

SYSTEM_LABEL = "System"

def actor_label(actor: Actor | None) -> str:
    if actor is None:
        return SYSTEM_LABEL
    return getattr(actor, "actor_label", None) or str(actor)


def _event(report: Report, *, kind: str, by: Actor | None, **fields) -> ReportEvent:
    event = ReportEvent.objects.create(
        report=report,
        kind=kind,
        actor=by if isinstance(by, User) else None,
        actor_label=actor_label(by),
        **fields,
    )
    # The e-mails this change causes are written in this same transaction
    # (an outbox) and queued for sending on commit.
    notifications_for_report_event(event=event)
    return event


def _require(by: Actor | None, capability: Capability, report: Report, action: str) -> None:
    if not can_on_charge_point(by, capability, charge_point=report.charge_point):
        raise NotPermitted(action=action)


def report_validate_reason(*, source: str, reason: str, charge_point: ChargePoint) -> None:
    """Raise InvalidReport when the reason does not fit the source or country."""
    if source not in REASONS_BY_SOURCE:
        raise InvalidReport(f"Unknown source '{source}'.", field="source")
    if reason not in Reason.values:
        raise InvalidReport(f"Unknown reason '{reason}'.", field="reason")
    if reason not in REASONS_BY_SOURCE[source]:
        raise InvalidReport(
            f"The reason '{Reason(reason).label}' cannot be used for a {Source(source).label.lower()} report.",
            field="reason",
        )
    countries = REASON_COUNTRIES.get(reason)
    if countries is not None and charge_point.site.country not in countries:
        raise InvalidReport(
            f"The reason '{Reason(reason).label}' is only for charge points in "
            f"{', '.join(sorted(countries))}; this one is in {charge_point.site.country}.",
            field="reason",
        )


@transaction.atomic
def report_create(
    *,
    charge_point: ChargePoint,
    source: str,
    reason: str,
    description: str = "",
    by: Actor | None = None,
    reporter_name: str = "",
    reporter_email: str = "",
    reporter_phone: str = "",
    messages: list[dict] | None = None,
) -> Report:
    """File a report and route it to its first party.

    ``messages`` (support reports) are the conversation so far, each a dict
    with ``sender`` ("driver" or "support"), ``author_name`` and ``body``.
    """
    report_validate_reason(source=source, reason=reason, charge_point=charge_point)
    if by is not None and not can_on_charge_point(by, Capability.COMMENT, charge_point=charge_point):
        raise NotPermitted(action="file")
    if messages and source != Source.SUPPORT:
        raise InvalidReport("Only support reports carry a conversation.", field="messages")

    party = first_party(source=source, charge_point=charge_point)
    now = timezone.now()
    report = Report.objects.create(
        charge_point=charge_point,
        source=source,
        reason=reason,
        description=description,
        reported_by=by if isinstance(by, User) else None,
        reporter_name=reporter_name,
        reporter_email=reporter_email,
        reporter_phone=reporter_phone,
        assigned_party=party,
        created_at=now,
        last_seen_at=now,
    )
    _event(
        report,
        kind=EventKind.CREATED,
        by=by,
        to_state=ReportState.OPEN,
        to_party=party,
        note=f"Routed to the {Party(party).label.lower()} automatically.",
    )
    for message in messages or []:
        _add_message(report, by=by, **message)
    return report


def _transition(report: Report, *, action: str, move: Callable[[], None]) -> str:
    """Run an FSM transition and save, turning library errors into ours."""
    from_state = report.state
    try:
        move()
    except FSMTransitionNotAllowed:
        raise TransitionNotAllowed(action=action, state=from_state) from None
    try:
        report.save()
    except ConcurrentTransition:
        raise ReportChanged(action=action) from None
    return from_state


@transaction.atomic
def report_assign(
    *, report: Report, party: str, by: Actor | None, person: User | None = None, note: str = ""
) -> Report:
    """Give the report to a party (operator, owner or support), and optionally
    to one person of that party."""
    _require(by, Capability.ASSIGN, report, "assign")
    if party not in Party.values:
        raise InvalidReport(f"Unknown party '{party}'.", field="party")
    if report.charge_point_id is None and party != Party.SUPPORT:
        raise InvalidReport(
            "This conversation has no charge point yet: link one before handing it to an operator or owner.",
            field="party",
        )
    if person is not None:
        report_validate_person(report=report, party=party, person=person)
    from_party = report.assigned_party
    from_state = _transition(
        report, action="assign", move=lambda: report.assign(party=party, person=person)
    )
    _event(
        report,
        kind=EventKind.ASSIGNED,
        by=by,
        from_state=from_state,
        to_state=report.state,
        from_party=from_party,
        to_party=party,
        to_person=person,
        note=note,
    )
    return report


def report_validate_person(*, report: Report, party: str, person: User) -> None:
    """A named assignee must belong to the party the report goes to."""
    from .selectors import report_assignable_people

    if not report_assignable_people(report=report, party=party).filter(pk=person.pk).exists():
        raise InvalidReport(
            f"{person.email} is not a member of the {Party(party).label.lower()} of this charge point.",
            field="person",
        )


@transaction.atomic
def report_resolve(*, report: Report, by: Actor | None, note: str = "") -> Report:
    _require(by, Capability.RESOLVE, report, "resolve")
    from_state = _transition(report, action="resolve", move=lambda: report.resolve(note=note))
    _event(
        report,
        kind=EventKind.RESOLVED,
        by=by,
        from_state=from_state,
        to_state=report.state,
        note=note,
    )
    return report


@transaction.atomic
def report_reopen(*, report: Report, by: Actor | None, note: str = "") -> Report:
    _require(by, Capability.RESOLVE, report, "reopen")
    from_state = _transition(report, action="reopen", move=report.reopen)
    _event(
        report, kind=EventKind.REOPENED, by=by, from_state=from_state, to_state=report.state, note=note
    )
    return report


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
    return _add_message(report, by=by, sender=sender, body=body, author_name=author_name)


@transaction.atomic
def report_settings_update(*, team, email_updates: bool, contacts: list[dict]) -> ReportSettings:
    """Replace a team's report settings and contacts (each a dict with name,
    email, phone, is_active). Contacts are matched by e-mail, so a contact
    kept in the list keeps its row. The caller checks who may do this."""
    settings, _ = ReportSettings.objects.select_for_update().get_or_create(team=team)
    settings.email_updates = email_updates
    settings.save(update_fields=["email_updates", "updated_at"])
    by_email = {c["email"].lower(): c for c in contacts}
    existing = {c.email.lower(): c for c in settings.contacts.all()}
    gone = [c.pk for email, c in existing.items() if email not in by_email]
    if gone:
        ReportContact.objects.filter(pk__in=gone).delete()
    for email, data in by_email.items():
        contact = existing.get(email) or ReportContact(settings=settings)
        contact.name = data["name"]
        contact.email = data["email"]
        contact.phone = data.get("phone", "")
        contact.is_active = data.get("is_active", True)
        contact.save()
    return settings


def report_settings_ensure(*, team_ids: list[int]) -> None:
    """Give every one of these teams a settings row (the defaults) if it has
    none; safe to run concurrently (a conflicting insert is skipped)."""
    missing = set(team_ids) - set(
        ReportSettings.objects.filter(team_id__in=team_ids).values_list("team_id", flat=True)
    )
    if missing:
        ReportSettings.objects.bulk_create(
            [ReportSettings(team_id=team_id) for team_id in sorted(missing)], ignore_conflicts=True
        )


def report_system_event(*, report: Report, kind: str, note: str = "", **fields) -> ReportEvent:
    """A timeline row the health checks write on a report they filed or
    watch (created in bulk, detected again, condition cleared), with the
    notifications it causes, exactly as a change through the other services.
    The caller holds the transaction."""
    return _event(report, kind=kind, by=None, note=note, **fields)


def report_system_events_bulk(*, report_ids: list[int], kind: str, note: str = "", **fields) -> int:
    """The bulk twin of ``_event`` for the health checks, which may file a
    thousand reports in one sweep: the timeline rows in one statement (by
    the system), then the notifications they cause. Keep it in step with
    ``_event``. The caller holds the transaction. Returns the rows written."""
    if not report_ids:
        return 0
    now = timezone.now()
    row = {"kind": kind, "actor_label": actor_label(None), "note": note, "created_at": now, **fields}
    for name in ("from_state", "to_state", "from_party", "to_party"):
        row.setdefault(name, "")
    event_ids = _insert_events(report_ids, row)
    # Notifications only ever go to a team's active contacts (the operator's
    # or the owner's): look up the audience only where there are some.
    teams = list(ReportContact.objects.filter(is_active=True).values_list("settings__team_id", flat=True).distinct())
    if not teams:
        return len(event_ids)
    reports = (
        Report.objects.with_context()
        .filter(pk__in=report_ids)
        .filter(Q(charge_point__operator_id__in=teams) | Q(charge_point__owner_id__in=teams))
    )
    for report in reports:
        notifications_for_report_event(event=ReportEvent(pk=event_ids[report.pk], report=report, **row))
    return len(event_ids)


def _insert_events(report_ids: list[int], row: dict) -> dict[int, int]:
    """Report id -> the id of its new timeline row."""
    if connection.vendor != "postgresql":
        events = ReportEvent.objects.bulk_create([ReportEvent(report_id=rid, **row) for rid in report_ids])
        return {event.report_id: event.pk for event in events}
    # One array parameter instead of a row of parameters per event: a
    # thousand ReportEvent instances cost more than the INSERT itself.
    columns = ["report_id", *row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ReportEvent._meta.db_table} ({', '.join(columns)}) "
            f"SELECT r, {', '.join(['%s'] * len(row))} FROM unnest(%s::bigint[]) AS r "
            "RETURNING report_id, id",
            [*(ReportEvent._meta.get_field(name).get_db_prep_save(value, connection) for name, value in row.items()),
             list(report_ids)],
        )
        return dict(cursor.fetchall())
