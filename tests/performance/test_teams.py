"""The rollups carry their charge point's teams (performance/teams.py): the
refresh writes them, a move between teams rewrites them in the move's
transaction, and a team's dashboard, API totals and monthly figures read
them: a moved charge point shows under its new team with the same figures."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_key_create
from chargepoints.assets import charge_point_update
from chargepoints.models import ChargePoint
from performance.models import ChargePointDay, PortDay
from performance.periods import period_month
from performance.rollups import rollups_refresh
from performance.selectors import worst_by_success_rate, worst_by_uptime
from performance.teams import whole_team
from performance.totals import daily_uptime, totals_for
from tests.factories import ChargePointFactory, SiteFactory, SupportUserFactory, TeamFactory

from .conftest import at, charge, make_charge_point, record, status

pytestmark = pytest.mark.django_db
MARCH = period_month(2026, 3)
APRIL_10 = at(0, day=39)


def _row_teams(cp) -> set[tuple[int, int]]:
    return (set(PortDay.objects.filter(charge_point=cp).values_list("owner_team_id", "operator_team_id"))
            | set(ChargePointDay.objects.filter(charge_point=cp).values_list("owner_team_id", "operator_team_id")))


@pytest.fixture
def owner():
    return TeamFactory()


@pytest.fixture
def moving(owner):
    """A charge point of ``owner`` with a fault and a failed start in
    March, and a quieter one of the same team, their rollups computed."""
    cp = make_charge_point(owner=owner, operator=owner, site=SiteFactory(team=owner))
    other = make_charge_point(owner=owner, operator=owner, site=cp.site)
    record(status(cp, at(-48), "Available", 1), status(other, at(-48), "Available", 1),
           status(cp, at(10), "Faulted", 1, "GroundFailure"), status(cp, at(14), "Available", 1),
           status(other, at(3, day=5), "Faulted", 1, "OverVoltage"), status(other, at(4, day=5), "Available", 1),
           charge(cp, at(15), 3, 0, connector=1), charge(other, at(15), 30, 5_000, connector=1))
    rollups_refresh(now=APRIL_10)
    return cp, other


def _api(team, support) -> dict:
    _key, raw = api_key_create(team=team, name="CSMS", role=Role.ADMIN, by=support)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get(f"/api/v1/teams/{team.pk}/performance/?period=2026-03")
    assert response.status_code == 200
    return response.json()


def _team(team):
    return ChargePoint.objects.filter(owner=team) | ChargePoint.objects.filter(operator=team)


def test_the_refresh_writes_the_charge_points_teams(moving, owner):
    cp, other = moving
    assert _row_teams(cp) == _row_teams(other) == {(owner.pk, owner.pk)}
    assert PortDay.objects.filter(charge_point=cp).exists()


def test_a_moved_charge_points_rollups_follow_it_to_the_dashboard_and_the_api(client, member_factory, moving,
                                                                               owner):
    cp, other = moving
    support = SupportUserFactory()
    before = _api(owner, support)
    mine = next(row for row in before["worst_uptime"] if row["charge_point"] == cp.pk)
    operator = TeamFactory()

    charge_point_update(charge_point=cp, operator=operator, by=support)

    assert _row_teams(cp) == {(owner.pk, operator.pk)}
    assert _row_teams(other) == {(owner.pk, owner.pk)}
    # The operator's API and dashboard show it, with the same figures.
    theirs = _api(operator, support)
    assert [row["charge_point"] for row in theirs["worst_uptime"]] == [cp.pk]
    assert theirs["worst_uptime"][0]["uptime"] == pytest.approx(mine["uptime"])
    assert [row["charge_point"] for row in theirs["worst_success_rate"]] == [cp.pk]
    assert (theirs["attempts"], theirs["successes"]) == (1, 0)
    client.force_login(member_factory(operator, Role.VIEWER))
    html = client.get("/operator/chargepoints/chargepoint/performance/?period=2026-03").content.decode()
    assert cp.name in html and other.name not in html
    # The owner still has both: its figures unchanged.
    after = _api(owner, support)
    assert {k: after[k] for k in ("uptime", "attempts", "successes", "port_count")} == {
        k: before[k] for k in ("uptime", "attempts", "successes", "port_count")}

    # A new owner too: the first owner no longer sees it.
    new_owner = TeamFactory()
    charge_point_update(charge_point=cp, owner=new_owner, site=SiteFactory(team=new_owner), by=support)
    assert _row_teams(cp) == {(new_owner.pk, operator.pk)}
    assert [row["charge_point"] for row in _api(new_owner, support)["worst_uptime"]] == [cp.pk]
    left = _api(owner, support)
    assert [row["charge_point"] for row in left["worst_uptime"]] == [other.pk]
    assert (left["attempts"], left["successes"]) == (1, 1)
    # Read by the team columns or by charge point: the same figures.
    for team in (owner, operator, new_owner):
        by_column = totals_for(charge_points=_team(team), period=MARCH, now=APRIL_10, with_causes=True,
                               team_id=team.pk)
        by_cp = totals_for(charge_points=_team(team), period=MARCH, now=APRIL_10, with_causes=True)
        assert (by_column.uptime, by_column.attempts, by_column.successes, dict(by_column.causes),
                dict(by_column.failures)) == (by_cp.uptime, by_cp.attempts, by_cp.successes, dict(by_cp.causes),
                                              dict(by_cp.failures))
        assert daily_uptime(charge_points=_team(team), period=MARCH, now=APRIL_10, team_id=team.pk) == \
            daily_uptime(charge_points=_team(team), period=MARCH, now=APRIL_10)
        for worst in (worst_by_uptime, worst_by_success_rate):
            assert [cp_id for cp_id, _f in worst(charge_points=_team(team), period=MARCH, now=APRIL_10,
                                                 team_id=team.pk)] == \
                [cp_id for cp_id, _f in worst(charge_points=_team(team), period=MARCH, now=APRIL_10)]


def test_a_refused_move_leaves_the_rollups_where_they_were(member_factory, moving, owner):
    cp, _other = moving
    with pytest.raises(Exception, match="support"):
        charge_point_update(charge_point=cp, operator=TeamFactory(), by=member_factory(owner, Role.ADMIN))
    assert _row_teams(cp) == {(owner.pk, owner.pk)}


def test_a_day_recomputed_after_a_move_keeps_the_new_teams(moving, owner):
    cp, _other = moving
    operator = TeamFactory()
    charge_point_update(charge_point=cp, operator=operator, by=SupportUserFactory())
    record(status(cp, at(2, day=3), "Faulted", 1, "PowerLoss"), status(cp, at(3, day=3), "Available", 1))
    rollups_refresh(now=APRIL_10)
    assert _row_teams(cp) == {(owner.pk, operator.pk)}
    assert PortDay.objects.filter(charge_point=cp, day=at(day=3).date(), operator_team=operator).exists()


def test_only_a_member_or_support_reads_a_team_by_its_columns(member_factory):
    team, partner = TeamFactory(), TeamFactory()
    # A partner's member sees only the team's charge points it runs: read by charge point.
    ChargePointFactory(owner=team, operator=partner, site__team=team)
    assert whole_team(member_factory(team, Role.VIEWER), team.pk) == team.pk
    assert whole_team(SupportUserFactory(), team.pk) == team.pk
    assert whole_team(member_factory(partner, Role.ADMIN), team.pk) is None
    assert whole_team(member_factory(team, Role.VIEWER), None) is None


BEFORE = [("performance", "0007_covering_dashboard_indexes")]
AFTER = [("performance", "0008_rollup_teams")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_teams_of_the_existing_rows():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    operator = TeamFactory()
    cp = ChargePointFactory(operator=operator)
    other = ChargePointFactory()
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        for charge_point in (cp, other):
            old.get_model("performance", "PortDay").objects.create(
                charge_point_id=charge_point.pk, connector=1, day=at().date(), outage_seconds=60)
            old.get_model("performance", "ChargePointDay").objects.create(
                charge_point_id=charge_point.pk, day=at().date(), covered_until=at(24))

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)

        assert _row_teams(cp) == {(cp.owner_id, operator.pk)}
        assert _row_teams(other) == {(other.owner_id, other.operator_id)}
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
