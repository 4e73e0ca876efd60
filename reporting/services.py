"""Writes on reports. Every rule about creating and moving reports lives here;
the admin, the API and the health checks call these functions.

Each function runs in one transaction, writes the timeline row beside the
change, and leaves nothing written when it raises.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition
from django_fsm import TransitionNotAllowed as FSMTransitionNotAllowed

from accounts.models import User
from accounts.permissions import Actor, Capability, best_role, can_on_charge_point, is_support, role_allows
from chargepoints.models import ChargePoint, Site
from core.tasks import enqueue_on_commit

from . import hooks
from .bulk_sql import insert_events, insert_site_reports, insert_system_reports
from .catalogue import REASON_COUNTRIES, REASONS_BY_SOURCE, Party, Reason, Source, first_party
from .error_hint_selectors import error_hint_for
from .error_hints import ROUTE_TO
from .errors import (
    InvalidReport,
    NotPermitted,
    OpenReportExists,
    PersonNotInParty,
    ReportChanged,
    TransitionNotAllowed,
)
from .hooks import timeline_written
from .models import (
    EventKind,
    Report,
    ReportEvent,
    ReportMessage,
    ReportSettings,
    ReportState,
)

SYSTEM_LABEL = "System"
# The task that processes new timeline rows (defined by the notifications app,
# which reads this app's models; named here so this app imports none of it).
EVENTS_TASK = "notifications.process_events"

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
    # The timeline row is the outbox: once it commits, the notifications
    # app decides who hears of it (see ``ReportEvent.processed_at``).
    enqueue_on_commit(EVENTS_TASK)
    timeline_written(event_ids=[event.pk], kind=kind)
    return event


def report_allows(actor: Actor | None, capability: Capability, report: Report) -> bool:
    """Whether the actor holds the capability on this report: by its charge
    point, or for a report about a site, by the site."""
    if report.charge_point_id is None and report.site_id is not None:
        return report_site_allows(actor, capability, site_id=report.site_id)
    return can_on_charge_point(actor, capability, charge_point=report.charge_point)


def _require(by: Actor | None, capability: Capability, report: Report, action: str) -> None:
    if not report_allows(by, capability, report):
        raise NotPermitted(action=action)


def report_site_allows(actor: Actor | None, capability: Capability, *, site_id: int) -> bool:
    """On a report about a site, a member's role counts in the site's team
    and in every team owning or operating a charge point there."""
    if actor is None or is_support(actor):
        return True
    return role_allows(best_role(actor, list(report_site_team_ids(site_id=site_id))), capability)


def report_site_team_ids(*, site_id: int) -> set[int]:
    """The site's team and every team owning or operating a charge point there."""
    team_ids = set(Site.objects.filter(pk=site_id).values_list("team_id", flat=True))
    for owner_id, operator_id in ChargePoint.objects.filter(site_id=site_id).values_list("owner_id", "operator_id"):
        team_ids.update((owner_id, operator_id))
    return team_ids


def report_require_speaker(*, by: Actor | None, source: str = "", sender: str = "", action: str) -> None:
    """Support reports and the support side of their conversation belong to
    support staff (and the system): a team's people and keys file user
    reports and relay the driver's side only. /operator/ offers nothing
    else; this makes the API and the admin refuse alike."""
    speaks_for_support = source == Source.SUPPORT or sender == ReportMessage.Sender.SUPPORT
    if speaks_for_support and by is not None and not is_support(by):
        refusal = NotPermitted(action=action)
        refusal.message = "Only support staff file support reports and write as support in a conversation."
        refusal.args = (refusal.message,)
        raise refusal


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
    report_require_speaker(by=by, source=source, action="file")
    if messages and source != Source.SUPPORT:
        raise InvalidReport("Only support reports carry a conversation.", field="messages")

    party = first_party(source=source, charge_point=charge_point)
    if source == Source.SYSTEM and reason == Reason.IN_ERROR:
        party = _hint_parties([{"pk": charge_point.pk, "owner_id": charge_point.owner_id,
                                "operator_id": charge_point.operator_id, "vendor": charge_point.vendor,
                                "model": charge_point.model, "error_code": charge_point.error_code,
                                "vendor_error_code": charge_point.vendor_error_code}]).get(charge_point.pk, party)
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


# The fields each transition owns: a transition saves only these, so a
# concurrent write to any other field (the sweep's occurrence count and
# condition_cleared_at, another transition's party) survives it.
TRANSITION_FIELDS = {
    "assign": ["state", "assigned_party", "assigned_to", "updated_at"],
    "resolve": ["state", "resolution_note", "resolved_at", "updated_at"],
    "reopen": ["state", "resolved_at", "updated_at"],
}


def _lock(report: Report) -> Report:
    """Lock the report's row and read it again under the lock, into the
    caller's object: whatever the caller read before (perhaps long ago, on
    another page) the transition starts from the row as it is now."""
    fresh = Report.objects.select_for_update().get(pk=report.pk)
    # Copied past the protected state field's descriptor: django-fsm's
    # refresh_from_db lifts the protection on the shared field object for a
    # moment, which is not safe with several threads (two sweeps at once).
    for field in Report._meta.concrete_fields:
        report.__dict__[field.attname] = fresh.__dict__[field.attname]
        if field.is_relation and field.is_cached(report):
            if getattr(field.get_cached_value(report), "pk", None) != report.__dict__[field.attname]:
                field.delete_cached_value(report)
    report._update_initial_state()  # the concurrency guard compares with the locked row
    return report


def _transition(report: Report, *, action: str, move: Callable[[], None]) -> str:
    """Run an FSM transition on the locked row and save the fields it owns,
    turning library errors into ours. The caller has called ``_lock``."""
    from_state = report.state
    try:
        move()
    except FSMTransitionNotAllowed:
        raise TransitionNotAllowed(action=action, state=from_state) from None
    try:
        with transaction.atomic():  # a savepoint: the conflict below leaves the caller's transaction usable
            report.save(update_fields=TRANSITION_FIELDS[action])
    except ConcurrentTransition:
        raise ReportChanged(action=action) from None
    except IntegrityError:
        # Only a reopen can break a constraint: the health checks filed a
        # new report for the same problem since the check in report_reopen.
        other = _open_twin(report)
        if other is None:
            raise
        raise OpenReportExists(action=action, open_report_id=other) from None
    return from_state


def _open_twin(report: Report) -> int | None:
    """The id of another unresolved system report for the same charge point
    and reason (at most one may be unresolved), or None."""
    if report.source != Source.SYSTEM:
        return None
    same_place = ({"charge_point_id": report.charge_point_id} if report.charge_point_id
                  else {"site_id": report.site_id, "charge_point__isnull": True})
    return (
        Report.objects.filter(source=Source.SYSTEM, reason=report.reason, **same_place)
        .exclude(state=ReportState.RESOLVED).exclude(pk=report.pk)
        .values_list("pk", flat=True).first()
    )


@transaction.atomic
def report_assign(
    *, report: Report, party: str, by: Actor | None, person: User | None = None, note: str = ""
) -> Report:
    """Give the report to a party (operator, owner or support), and optionally
    to one person of that party."""
    _require(by, Capability.ASSIGN, report, "assign")
    if party not in Party.values:
        raise InvalidReport(f"Unknown party '{party}'.", field="party")
    if report.charge_point_id is None and report.site_id is None and party != Party.SUPPORT:
        raise InvalidReport(
            "This conversation has no charge point yet: link one before handing it to an operator or owner.",
            field="party",
        )
    if person is not None:
        report_validate_person(report=report, party=party, person=person)
    _lock(report)
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
        raise PersonNotInParty(party=party)


@transaction.atomic
def report_resolve(*, report: Report, by: Actor | None, note: str = "") -> Report:
    _require(by, Capability.RESOLVE, report, "resolve")
    _lock(report)
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
    _lock(report)
    if report.state == ReportState.RESOLVED:
        other = _open_twin(report)
        if other is not None:
            raise OpenReportExists(action="reopen", open_report_id=other)
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
    report_require_speaker(by=by, sender=sender, action="add a message to")
    return _add_message(report, by=by, sender=sender, body=body, author_name=author_name)


def _hint_parties(offenders: list[dict]) -> dict[int, str]:
    """Charge point id -> party, for the "in error" offenders whose operator
    routes by the error hint (ReportSettings.route_by_error_hint): the
    catalogue's party to act, mapped by ``error_hints.ROUTE_TO``. Offenders
    without a known code, or whose operator is the owner, keep the table's
    party."""
    operator_ids = {o["operator_id"] for o in offenders if o["operator_id"] != o["owner_id"]}
    if not operator_ids:
        return {}
    routing = set(ReportSettings.objects.filter(team_id__in=operator_ids, route_by_error_hint=True)
                  .values_list("team_id", flat=True))
    parties = {}
    for o in offenders:
        if o["operator_id"] not in routing or o["operator_id"] == o["owner_id"]:
            continue
        hint = error_hint_for(vendor=o.get("vendor") or "", model=o.get("model") or "",
                              error_code=o.get("error_code") or "", vendor_error_code=o.get("vendor_error_code") or "")
        if hint is not None:
            parties[o["pk"]] = ROUTE_TO[hint["party"]]
    return parties


def report_file_system_bulk(*, reason: str, offenders: list[dict], now) -> dict[int, int]:
    """File system reports for many charge points at once (the health sweep),
    except where one is already unresolved: the database's conditional
    unique constraint decides, so two sweeps at once file each problem once.

    ``offenders``: dicts with the charge point's ``pk``, ``owner_id`` and
    ``operator_id`` and the report's ``description``. Each report goes to the
    party of the routing table (``first_party``) and its "created" timeline
    row names that same party, as ``report_create`` does for one report. The
    caller holds the transaction. Returns charge point id -> new report id."""
    by_hint = _hint_parties(offenders) if reason == Reason.IN_ERROR else {}
    rows = [
        (o["pk"], o["description"], by_hint.get(o["pk"]) or first_party(source=Source.SYSTEM, charge_point=SimpleNamespace(
            owner_id=o["owner_id"], operator_id=o["operator_id"])))
        for o in offenders
    ]
    created = insert_system_reports(reason=reason, rows=rows, now=now)
    party_of = {cp_id: party for cp_id, _description, party in rows}
    by_party: dict[str, list[int]] = {}
    for cp_id, report_id in created.items():
        by_party.setdefault(party_of[cp_id], []).append(report_id)
    for party, report_ids in by_party.items():
        report_system_events_bulk(
            report_ids=report_ids, kind=EventKind.CREATED, to_state=ReportState.OPEN, to_party=party,
            note=f"Filed by the health checks and routed to the {Party(party).label.lower()} automatically.",
        )
    for hook in hooks.system_reports_filed:
        hook(reason=reason, created=created)
    return created


def report_file_site_reports(*, reason: str, sites: list[tuple[int, str]], now) -> dict[int, int]:
    """File system reports about whole sites (the sweep's site outages),
    except where one is already unresolved. ``sites``: (site id,
    description). Routed like a disconnect: to the operator. The caller
    holds the transaction. Returns site id -> new report id."""
    party = Party.OPERATOR
    created = insert_site_reports(reason=reason, rows=[(site_id, text, party) for site_id, text in sites], now=now)
    report_system_events_bulk(
        report_ids=list(created.values()), kind=EventKind.CREATED, to_state=ReportState.OPEN, to_party=party,
        note=f"Filed by the health checks and routed to the {Party(party).label.lower()} automatically.",
    )
    return created


def report_system_event(*, report: Report, kind: str, note: str = "", **fields) -> ReportEvent:
    """A timeline row the health checks write on a report they filed or
    watch (created in bulk, detected again, condition cleared), exactly as a
    change through the other services. The caller holds the transaction."""
    return _event(report, kind=kind, by=None, note=note, **fields)


def report_timeline_note(*, report: Report, by: Actor | None, kind: str, note: str) -> ReportEvent:
    """A timeline row about something done to the report's charge point from
    the report's page (a higher app's action, e.g. a remote command): by the
    person or key that did it. The caller checked their right to do it."""
    return _event(report, kind=kind, by=by, note=note)


def report_system_events_bulk(*, report_ids: list[int], kind: str, note: str = "", **fields) -> int:
    """The bulk twin of ``_event`` for the health checks, which may file a
    thousand reports in one sweep: the timeline rows in one statement (by
    the system), whatever the number of teams with contacts. Keep it in step
    with ``_event``. The caller holds the transaction. Returns the rows written."""
    if not report_ids:
        return 0
    now = timezone.now()
    row = {"kind": kind, "actor_label": actor_label(None), "note": note, "created_at": now, **fields}
    for name in ("from_state", "to_state", "from_party", "to_party"):
        row.setdefault(name, "")
    event_ids = insert_events(report_ids, row)
    enqueue_on_commit(EVENTS_TASK)
    timeline_written(event_ids=list(event_ids.values()), kind=kind)
    return len(event_ids)
