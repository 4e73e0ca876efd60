"""Moving a report between states and parties: assign, resolve, reopen.

Each runs in one transaction: it locks the report's row, runs the
django-fsm transition, saves only the fields the transition owns and writes
the timeline row; a conflict with a concurrent change is a clear error,
with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django_fsm import ConcurrentTransition
from django_fsm import TransitionNotAllowed as FSMTransitionNotAllowed

from accounts.models import User
from accounts.permissions import Actor, Capability

from ..catalogue import Party, Source
from ..errors import InvalidReport, OpenReportExists, PersonNotInParty, ReportChanged, TransitionNotAllowed
from ..models import EventKind, Report, ReportState
from .access import _require
from .timeline import _event

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
    from ..selectors import report_assignable_people

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
