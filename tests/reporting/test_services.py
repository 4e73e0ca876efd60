"""reporting/services/: creation, routing, transitions and the timeline."""

import pytest

from accounts.models import Role
from reporting import services
from reporting.catalogue import Party, Reason, Source
from reporting.errors import (
    InvalidReport,
    NotPermitted,
    PersonNotInParty,
    TransitionNotAllowed,
)
from reporting.models import EventKind, Report, ReportEvent, ReportState
from tests.factories import ChargePointFactory, SiteFactory, TeamFactory

pytestmark = pytest.mark.django_db


def operated_by_another_team():
    owner = TeamFactory()
    return ChargePointFactory(site=SiteFactory(team=owner), owner=owner, operator=TeamFactory())


def new_report(charge_point=None, **kwargs) -> Report:
    """A user report, routed to the operator (who is not the owner)."""
    kwargs.setdefault("source", Source.USER)
    kwargs.setdefault("reason", Reason.NOT_WORKING)
    return services.report_create(charge_point=charge_point or operated_by_another_team(), **kwargs)


def in_state(state: str) -> Report:
    report = new_report()
    if state == ReportState.ASSIGNED:
        services.report_assign(report=report, party=Party.OWNER, by=None)
    elif state == ReportState.RESOLVED:
        services.report_resolve(report=report, by=None, note="done")
    report.refresh_from_db()
    assert report.state == state
    return report


# --- creation and the auto-assignment table -----------------------------------


@pytest.fixture
def operated_for_owner():
    """A charge point owned by one team and operated by another."""
    return operated_by_another_team()


@pytest.mark.parametrize(
    "source, reason, expected",
    [
        (Source.SYSTEM, Reason.DISCONNECTED, Party.OPERATOR),
        (Source.USER, Reason.NOT_WORKING, Party.OPERATOR),
        (Source.SUPPORT, Reason.CONVERSATION, Party.SUPPORT),
    ],
)
def test_new_report_goes_to_the_party_in_the_routing_table(operated_for_owner, source, reason, expected):
    report = new_report(operated_for_owner, source=source, reason=reason)

    assert report.assigned_party == expected
    assert report.state == ReportState.OPEN


def test_user_report_goes_to_the_owner_when_the_owner_operates_the_charge_point():
    team = TeamFactory()
    cp = ChargePointFactory(site=SiteFactory(team=team), owner=team, operator=team)

    report = new_report(cp, source=Source.USER, reason=Reason.BROKEN)

    assert report.assigned_party == Party.OWNER


def test_system_report_goes_to_the_operator_even_when_it_is_the_owner():
    team = TeamFactory()
    cp = ChargePointFactory(site=SiteFactory(team=team), owner=team, operator=team)

    report = new_report(cp, source=Source.SYSTEM, reason=Reason.IN_ERROR)

    assert report.assigned_party == Party.OPERATOR


def test_creation_writes_one_timeline_row_with_the_routing():
    report = new_report()

    (event,) = report.events.all()
    assert event.kind == EventKind.CREATED
    assert event.actor_label == "System"
    assert event.to_state == ReportState.OPEN
    assert event.to_party == Party.OPERATOR


def test_support_report_keeps_its_conversation(support_user):
    report = new_report(
        source=Source.SUPPORT,
        reason=Reason.CONVERSATION,
        by=support_user,
        messages=[
            {"sender": "driver", "author_name": "Anna", "body": "It will not start."},
            {"sender": "support", "body": "Checking now."},
        ],
    )

    messages = list(report.messages.values_list("sender", "author_name", "body"))
    assert messages == [
        ("driver", "Anna", "It will not start."),
        ("support", support_user.actor_label, "Checking now."),
    ]
    assert report.events.filter(kind=EventKind.MESSAGE).count() == 2


# --- reason and source validation ---------------------------------------------


@pytest.mark.parametrize(
    "source, reason",
    [
        (Source.SYSTEM, Reason.NOT_WORKING),
        (Source.USER, Reason.DISCONNECTED),
        (Source.USER, Reason.CONVERSATION),
        (Source.SUPPORT, Reason.BROKEN),
        (Source.USER, "teleported"),
        ("carrier-pigeon", Reason.OTHER),
    ],
)
def test_reason_that_does_not_fit_the_source_is_refused_and_nothing_is_written(source, reason):
    cp = ChargePointFactory()

    with pytest.raises(InvalidReport):
        services.report_create(charge_point=cp, source=source, reason=reason)

    assert Report.objects.count() == 0
    assert ReportEvent.objects.count() == 0


def test_tax_refund_reason_is_accepted_in_denmark():
    team = TeamFactory(country="DK")
    cp = ChargePointFactory(site=SiteFactory(team=team, country="DK"))

    report = new_report(cp, reason=Reason.TAX_REFUND)

    assert report.reason == Reason.TAX_REFUND


def test_tax_refund_reason_is_refused_outside_denmark_with_a_message_naming_the_country():
    cp = ChargePointFactory(site=SiteFactory(country="SE"))

    with pytest.raises(InvalidReport, match="only for charge points in DK; this one is in SE"):
        new_report(cp, reason=Reason.TAX_REFUND)

    assert Report.objects.count() == 0


def test_conversation_on_a_non_support_report_is_refused():
    with pytest.raises(InvalidReport, match="Only support reports"):
        new_report(messages=[{"sender": "driver", "body": "hi"}])
    assert Report.objects.count() == 0


# --- every transition from every state -----------------------------------------

ALLOWED = {
    (ReportState.OPEN, "assign"): ReportState.ASSIGNED,
    (ReportState.OPEN, "resolve"): ReportState.RESOLVED,
    (ReportState.ASSIGNED, "assign"): ReportState.ASSIGNED,
    (ReportState.ASSIGNED, "resolve"): ReportState.RESOLVED,
    (ReportState.RESOLVED, "reopen"): ReportState.OPEN,
}
ACTIONS = {
    "assign": lambda report: services.report_assign(report=report, party=Party.SUPPORT, by=None),
    "resolve": lambda report: services.report_resolve(report=report, by=None, note="fixed"),
    "reopen": lambda report: services.report_reopen(report=report, by=None),
}
ALL_CASES = [(state, action) for state in ReportState.values for action in ACTIONS]


@pytest.mark.parametrize(
    "state, action", [case for case in ALL_CASES if case in ALLOWED]
)
def test_allowed_transition_moves_the_state_and_writes_a_timeline_row(state, action):
    report = in_state(state)
    events_before = report.events.count()

    ACTIONS[action](report)

    report.refresh_from_db()
    assert report.state == ALLOWED[(state, action)]
    assert report.events.count() == events_before + 1
    last = report.events.last()
    assert (last.from_state, last.to_state) == (state, ALLOWED[(state, action)])


@pytest.mark.parametrize(
    "state, action", [case for case in ALL_CASES if case not in ALLOWED]
)
def test_forbidden_transition_raises_naming_state_and_action_and_writes_nothing(state, action):
    report = in_state(state)
    events_before = report.events.count()

    with pytest.raises(TransitionNotAllowed, match=f"Cannot {action} a report that is {state}"):
        ACTIONS[action](report)

    report.refresh_from_db()
    assert report.state == state
    assert report.events.count() == events_before


def test_resolve_records_note_and_time_and_reopen_clears_the_time():
    report = new_report()

    services.report_resolve(report=report, by=None, note="Replaced the RFID reader.")
    report.refresh_from_db()
    assert report.resolution_note == "Replaced the RFID reader."
    assert report.resolved_at is not None

    services.report_reopen(report=report, by=None, note="Back again.")
    report.refresh_from_db()
    assert report.resolved_at is None
    assert report.events.last().note == "Back again."


def test_assign_to_a_person_of_the_party(member_factory, operated_for_owner):
    installer = member_factory(operated_for_owner.owner, Role.INSTALLER)
    report = new_report(operated_for_owner)

    services.report_assign(report=report, party=Party.OWNER, person=installer, by=None)

    report.refresh_from_db()
    assert (report.assigned_party, report.assigned_to) == (Party.OWNER, installer)
    event = report.events.last()
    assert (event.from_party, event.to_party, event.to_person) == (Party.OPERATOR, Party.OWNER, installer)


def test_assign_to_a_person_outside_the_party_is_refused(member_factory, operated_for_owner):
    operator_tech = member_factory(operated_for_owner.operator, Role.INSTALLER)
    report = new_report(operated_for_owner)

    with pytest.raises(PersonNotInParty, match="name a member of the owner team") as refused:
        services.report_assign(report=report, party=Party.OWNER, person=operator_tech, by=None)

    assert operator_tech.email not in refused.value.message
    report.refresh_from_db()
    assert report.state == ReportState.OPEN
    assert report.events.count() == 1


@pytest.mark.parametrize("party", [Party.OWNER, Party.OPERATOR])
def test_support_staff_can_only_be_named_for_support(operated_for_owner, support_user, party):
    report = new_report(operated_for_owner)

    with pytest.raises(PersonNotInParty):
        services.report_assign(report=report, party=party, person=support_user, by=support_user)

    services.report_assign(report=report, party=Party.SUPPORT, person=support_user, by=support_user)
    report.refresh_from_db()
    assert (report.assigned_party, report.assigned_to) == (Party.SUPPORT, support_user)


@pytest.mark.parametrize("team", ["owner", "operator"])
def test_team_members_cannot_be_named_for_support(member_factory, operated_for_owner, support_user, team):
    admin = member_factory(getattr(operated_for_owner, team), Role.ADMIN)
    report = new_report(operated_for_owner)

    with pytest.raises(PersonNotInParty, match="name support staff"):
        services.report_assign(report=report, party=Party.SUPPORT, person=admin, by=support_user)


def test_an_operator_admin_cannot_name_someone_of_a_third_team(member_factory, operated_for_owner):
    admin = member_factory(operated_for_owner.operator, Role.ADMIN)
    stranger = member_factory(TeamFactory(), Role.ADMIN)
    report = new_report(operated_for_owner)

    for party in (Party.OWNER, Party.OPERATOR, Party.SUPPORT):
        with pytest.raises(PersonNotInParty):
            services.report_assign(report=report, party=party, person=stranger, by=admin)
    assert report.events.count() == 1


def test_assign_to_an_unknown_party_is_refused():
    report = new_report()
    with pytest.raises(InvalidReport, match="Unknown party"):
        services.report_assign(report=report, party="nobody", by=None)


# --- who may act ------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, may_resolve, may_assign",
    [
        (Role.VIEWER, False, False),
        (Role.INSTALLER, True, False),
        (Role.ADMIN, True, True),
        (Role.OWNER, True, True),
    ],
)
def test_roles_decide_who_may_resolve_and_assign(member_factory, role, may_resolve, may_assign):
    cp = ChargePointFactory()
    user = member_factory(cp.operator, role)

    report = new_report(cp)
    if may_assign:
        services.report_assign(report=report, party=Party.OWNER, by=user)
    else:
        with pytest.raises(NotPermitted, match="not allowed to assign"):
            services.report_assign(report=report, party=Party.OWNER, by=user)

    report = new_report(cp)
    if may_resolve:
        services.report_resolve(report=report, by=user)
    else:
        with pytest.raises(NotPermitted, match="not allowed to resolve"):
            services.report_resolve(report=report, by=user)


def test_member_of_another_team_may_not_touch_the_report(member_factory):
    report = new_report()
    stranger = member_factory(TeamFactory(), Role.OWNER)

    with pytest.raises(NotPermitted):
        services.report_resolve(report=report, by=stranger)
    report.refresh_from_db()
    assert report.state == ReportState.OPEN


def test_timeline_names_the_person_who_acted(member_factory):
    cp = ChargePointFactory()
    admin = member_factory(cp.operator, Role.ADMIN)
    report = new_report(cp)

    services.report_resolve(report=report, by=admin, note="ok")

    event = report.events.last()
    assert event.actor == admin
    assert event.actor_label == admin.actor_label


def test_comment_is_added_to_the_timeline_and_empty_comment_refused(member_factory):
    cp = ChargePointFactory()
    installer = member_factory(cp.operator, Role.INSTALLER)
    report = new_report(cp)

    services.report_comment(report=report, by=installer, body="  Power cycled it.  ")
    with pytest.raises(InvalidReport, match="cannot be empty"):
        services.report_comment(report=report, by=installer, body="   ")

    comments = list(report.events.filter(kind=EventKind.COMMENT).values_list("note", flat=True))
    assert comments == ["Power cycled it."]


def test_message_on_a_user_report_is_refused(support_user):
    report = new_report()
    with pytest.raises(InvalidReport, match="Only support reports"):
        services.report_add_message(report=report, by=support_user, sender="support", body="Hello")


# --- stale copies ------------------------------------------------------------------


def test_an_assign_from_a_stale_copy_of_a_since_resolved_report_is_refused_and_writes_nothing():
    report = new_report()
    first = Report.objects.get(pk=report.pk)
    second = Report.objects.get(pk=report.pk)

    services.report_resolve(report=first, by=None, note="fixed on site")
    # The transition reads the row again under its lock: the stale copy's
    # "open" does not count.
    with pytest.raises(TransitionNotAllowed, match="Cannot assign a report that is resolved"):
        services.report_assign(report=second, party=Party.OWNER, by=None)

    report.refresh_from_db()
    assert report.state == ReportState.RESOLVED
    assert report.assigned_party == Party.OPERATOR
    assert report.events.count() == 2
