"""reporting/selectors.py: reads behind the back-office screens."""

import pytest

from accounts.models import Role
from reporting.catalogue import Party
from reporting.selectors import report_people_by_party
from tests.factories import (
    ChargePointFactory,
    MembershipFactory,
    ReportFactory,
    SupportUserFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def member(team, role, **names):
    user = UserFactory(**names)
    MembershipFactory(user=user, team=team, role=role)
    return user


def test_assignable_people_come_in_two_queries_whatever_the_number_of_reports(django_assert_num_queries):
    reports = []
    for _ in range(10):
        owner, operator = TeamFactory(), TeamFactory()
        member(owner, Role.ADMIN)
        member(operator, Role.INSTALLER)
        reports.append(ReportFactory(charge_point=ChargePointFactory(owner=owner, operator=operator)))
    SupportUserFactory()
    reports = [type(r).objects.with_context().get(pk=r.pk) for r in reports]

    with django_assert_num_queries(2):
        people, parties = report_people_by_party(reports=reports, actor=None, include_support=True)

    assert len(people) == 21
    assert sorted(len(p) for p in parties.values()) == [1] * 21


def test_an_operator_is_offered_its_own_people_with_their_parties_and_never_viewers():
    own = TeamFactory()
    other = TeamFactory()
    installer = member(own, Role.INSTALLER)
    member(own, Role.VIEWER)
    stranger = member(other, Role.ADMIN)
    report = ReportFactory(charge_point=ChargePointFactory(owner=other, operator=own))
    actor = member(own, Role.ADMIN)

    people, parties = report_people_by_party(reports=[report], actor=actor, include_support=False)

    assert set(people) == {installer.pk, actor.pk}
    assert stranger.pk not in people
    assert parties[installer.pk] == {Party.OPERATOR.value}


def test_one_team_as_owner_and_operator_gives_its_people_both_parties():
    team = TeamFactory()
    person = member(team, Role.OWNER)
    report = ReportFactory(charge_point=ChargePointFactory(owner=team, operator=team))

    _, parties = report_people_by_party(reports=[report], actor=None, include_support=False)

    assert parties[person.pk] == {Party.OPERATOR.value, Party.OWNER.value}


# --- the evidence on a report's page: centred on the detection ---

def _evidence_report(reason, **kwargs):
    import datetime

    from django.utils import timezone

    from reporting.catalogue import Source

    at = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=3)
    return ReportFactory(source=Source.SYSTEM, reason=reason, created_at=at, last_seen_at=at, **kwargs), at


def _reading(cp, n, kind, dbm, at):
    from chargepoints.models import SignalReading

    return SignalReading.objects.create(charge_point=cp, event_id=f"sig-{n}", kind=kind, dbm=dbm, occurred_at=at)


def test_weak_wifi_evidence_is_the_checks_window_marked_with_context_either_side():
    from datetime import timedelta

    from chargepoints.models import SignalKind
    from reporting.catalogue import Reason
    from reporting.selectors import EVIDENCE_CONTEXT_ROWS, report_evidence

    report, at = _evidence_report(Reason.BAD_WIFI)
    cp = report.charge_point
    # The check's window: 15 minutes (settings.HEALTH_CHECKS) before the detection.
    fired = [_reading(cp, i, SignalKind.WIFI, -85, at - timedelta(minutes=2 + 4 * i)) for i in range(3)]
    cellular = _reading(cp, 10, SignalKind.CELLULAR, -90, at - timedelta(minutes=5))
    # Twenty readings earlier that day: only the nearest few show.
    earlier = [_reading(cp, 20 + i, SignalKind.WIFI, -60, at - timedelta(minutes=30 + i)) for i in range(20)]
    later = _reading(cp, 50, SignalKind.WIFI, -62, at + timedelta(minutes=10))
    _reading(cp, 60, SignalKind.WIFI, -85, at - timedelta(days=3))  # another day: not evidence
    _reading(ChargePointFactory(), 70, SignalKind.WIFI, -95, at - timedelta(minutes=3))  # another charge point

    evidence = report_evidence(report=report)

    shown = evidence["signals"]
    assert [r.pk for r in shown if r.fired] == [r.pk for r in reversed(fired)]
    assert cellular in shown and not next(r for r in shown if r.pk == cellular.pk).fired
    assert [r.pk for r in shown if r.occurred_at < at - timedelta(minutes=15)] == [
        r.pk for r in reversed(earlier[:EVIDENCE_CONTEXT_ROWS])]
    assert shown[-1].pk == later.pk and not shown[-1].fired
    assert [r.occurred_at for r in shown] == sorted(r.occurred_at for r in shown)  # oldest first
    assert len(shown) == EVIDENCE_CONTEXT_ROWS + 3 + 1 + 1
    assert evidence["window_start"] == at - timedelta(minutes=15)
    assert "below -80 dBm for 15 minutes" in evidence["looked_for"]


def test_a_teams_own_signal_threshold_decides_what_is_marked():
    from datetime import timedelta

    from chargepoints.models import SignalKind
    from reporting.catalogue import Reason
    from reporting.models import HealthCheckSettings
    from reporting.selectors import report_evidence

    report, at = _evidence_report(Reason.BAD_WIFI)
    cp = report.charge_point
    HealthCheckSettings.objects.update_or_create(team=cp.operator, defaults={"bad_wifi_dbm": -90,
                                                                              "bad_wifi_window_minutes": 60})
    weak = _reading(cp, 1, SignalKind.WIFI, -95, at - timedelta(minutes=50))
    middling = _reading(cp, 2, SignalKind.WIFI, -85, at - timedelta(minutes=5))

    evidence = report_evidence(report=report)

    assert {r.pk: r.fired for r in evidence["signals"]} == {weak.pk: True, middling.pk: False}
    assert evidence["window_start"] == at - timedelta(minutes=60)


def test_disconnected_evidence_marks_the_state_change_that_began_it():
    from datetime import timedelta

    from chargepoints.models import StateChange
    from reporting.catalogue import Reason
    from reporting.selectors import report_evidence

    report, at = _evidence_report(Reason.DISCONNECTED)
    cp = report.charge_point

    def change(n, state, when):
        return StateChange.objects.create(charge_point=cp, event_id=f"sc-{n}", state=state, occurred_at=when)

    before = change(1, "available", at - timedelta(hours=2))
    began = change(2, "disconnected", at - timedelta(minutes=12))  # the check waits 10 minutes
    back = change(3, "available", at + timedelta(minutes=30))

    evidence = report_evidence(report=report)

    assert [(r.pk, r.fired) for r in evidence["state_changes"]] == [
        (before.pk, False), (began.pk, True), (back.pk, False)]


def test_failed_charges_evidence_marks_the_failures_in_the_window():
    from datetime import timedelta

    from chargepoints.models import Charge, ChargeOutcome
    from reporting.catalogue import Reason
    from reporting.selectors import report_evidence

    report, at = _evidence_report(Reason.FAILED_CHARGES)
    cp = report.charge_point

    def charge(n, outcome, ended):
        return Charge.objects.create(charge_point=cp, event_id=f"ch-{n}", started_at=ended - timedelta(minutes=5),
                                     ended_at=ended, energy_wh=0, outcome=outcome)

    failed = [charge(i, ChargeOutcome.FAILED, at - timedelta(minutes=10 * i + 1)) for i in range(3)]
    fine = charge(9, ChargeOutcome.COMPLETED, at - timedelta(minutes=15))
    old_failure = charge(10, ChargeOutcome.FAILED, at - timedelta(minutes=90))  # before the 60-minute window

    marks = {r.pk: r.fired for r in report_evidence(report=report)["charges"]}

    assert marks == {**{c.pk: True for c in failed}, fine.pk: False, old_failure.pk: False}


def test_a_drivers_report_shows_the_rows_around_its_filing_with_nothing_marked():
    from datetime import timedelta

    from chargepoints.models import SignalKind
    from reporting.catalogue import Reason, Source
    from reporting.selectors import report_evidence

    report, at = _evidence_report(Reason.NOT_WORKING)
    report.source = Source.USER
    reading = _reading(report.charge_point, 1, SignalKind.WIFI, -95, at - timedelta(minutes=3))

    evidence = report_evidence(report=report)

    assert [(r.pk, r.fired) for r in evidence["signals"]] == [(reading.pk, False)]
    assert evidence["window_start"] is None
