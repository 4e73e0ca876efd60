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
