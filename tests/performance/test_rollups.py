"""Daily rollups (performance/rollups.py): marked dirty by telemetry, recomputed
by the refresh, carried forward, equal to a recompute from scratch."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from performance.exclusions import exclusion_add
from performance.models import ChargePointDay, DirtyDay, PortDay
from performance.rollups import rollup_day, rollups_mark_days, rollups_refresh
from reporting.maintenance import maintenance_window_create

from .conftest import T0, at, charge, disconnected, heartbeat, make_charge_point, record, status

pytestmark = pytest.mark.django_db


def port_rows(cp):
    return {(row.day.isoformat(), row.connector): (row.outage_seconds, row.excluded_seconds)
            for row in PortDay.objects.filter(charge_point=cp) if row.outage_seconds}


def test_a_telemetry_batch_marks_its_days_dirty_in_one_statement(cp):
    DirtyDay.objects.all().delete()
    events = [status(cp, at(h, day=d), "Faulted" if h % 2 else "Available", 1)
              for d in range(3) for h in range(1, 11)]
    with CaptureQueriesContext(connection) as queries:
        record(*events, charge(cp, at(5, day=3), 30, 12_000))

    inserts = [q["sql"] for q in queries.captured_queries if "performance_dirtyday" in q["sql"]]
    assert len(inserts) == 1
    assert set(DirtyDay.objects.filter(charge_point=cp).values_list("day", flat=True)) == {
        (T0 + timedelta(days=d)).date() for d in range(4)}


def test_the_refresh_recomputes_only_the_dirty_days_and_clears_them(cp):
    record(status(cp, at(10), "Faulted", 1, "GroundFailure"), status(cp, at(12), "Available", 1),
           charge(cp, at(13), 60, 20_000), charge(cp, at(15), 5, 0))

    assert rollups_refresh(now=T0 + timedelta(days=2)) == 2  # the setup's day two days before, and T0

    assert port_rows(cp) == {(T0.date().isoformat(), 1): (7200, 0)}
    day = ChargePointDay.objects.get(charge_point=cp, day=T0.date())
    assert (day.attempts, day.successes, day.failures) == (2, 1, {"no_energy": 1})
    assert day.complete
    assert not DirtyDay.objects.exists()
    assert PortDay.objects.get(charge_point=cp, day=T0.date(), connector=1).causes == {"error:GroundFailure": 7200}


def test_a_late_event_updates_its_day_and_carries_to_the_days_after(cp):
    rollups_refresh(now=T0 + timedelta(days=3))
    assert port_rows(cp) == {}

    # A fault reported late, on T0 at 22:00, never followed by a recovery.
    record(status(cp, at(22), "Faulted", 1))
    rollups_refresh(now=at(6, day=2))

    assert port_rows(cp) == {
        (T0.date().isoformat(), 1): (2 * 3600, 0),
        ((T0 + timedelta(days=1)).date().isoformat(), 1): (24 * 3600, 0),
        ((T0 + timedelta(days=2)).date().isoformat(), 1): (6 * 3600, 0),
    }
    today = ChargePointDay.objects.get(charge_point=cp, day=(T0 + timedelta(days=2)).date())
    assert not today.complete and today.ports_down_at_end == 1

    # The recovery, late too: the days after it come back up.
    record(status(cp, at(3, day=1), "Available", 1))
    rollups_refresh(now=at(7, day=2))
    assert port_rows(cp) == {
        (T0.date().isoformat(), 1): (2 * 3600, 0),
        ((T0 + timedelta(days=1)).date().isoformat(), 1): (3 * 3600, 0),
    }


def test_a_day_computed_while_it_was_today_is_computed_whole_once_it_is_over(cp):
    record(status(cp, at(20), "Faulted", 1))
    rollups_refresh(now=at(21))
    assert port_rows(cp) == {(T0.date().isoformat(), 1): (3600, 0)}

    rollups_refresh(now=at(1, day=1))

    assert port_rows(cp) == {(T0.date().isoformat(), 1): (4 * 3600, 0),
                             ((T0 + timedelta(days=1)).date().isoformat(), 1): (3600, 0)}
    assert ChargePointDay.objects.get(charge_point=cp, day=T0.date()).complete


def test_exclusions_and_maintenance_windows_mark_the_days_they_cover(cp, support_user):
    record(status(cp, at(10), "Faulted", 1), status(cp, at(12), "Available", 1))
    rollups_refresh()
    assert port_rows(cp) == {(T0.date().isoformat(), 1): (7200, 0)}

    exclusion_add(by=support_user, charge_point=cp, starts_at=at(10), ends_at=at(11), reason="vandalism",
                  evidence_text="Police report 12")
    rollups_refresh()
    assert port_rows(cp) == {(T0.date().isoformat(), 1): (7200, 3600)}

    maintenance_window_create(by=support_user, team=cp.operator, reason="Repair", starts_at=at(9),
                              ends_at=at(13), charge_point=cp)
    rollups_refresh()
    assert port_rows(cp) == {(T0.date().isoformat(), 1): (7200, 7200)}


def test_the_rollups_equal_a_recompute_from_scratch(cp):
    record(status(cp, at(3), "Faulted", 2, "OverCurrentFailure"), status(cp, at(9, day=1), "Available", 2),
           status(cp, at(23), "Unavailable", 1), status(cp, at(1, day=2), "Available", 1))
    now = at(12, day=3)
    rollups_refresh(now=now)
    incremental = port_rows(cp)

    PortDay.objects.all().delete()
    ChargePointDay.objects.all().delete()
    for day in range(-3, 4):
        rollup_day(charge_point=cp, day=(T0 + timedelta(days=day)).date(), now=now)

    assert port_rows(cp) == incremental
    assert incremental == {
        (T0.date().isoformat(), 1): (3600, 0),
        (T0.date().isoformat(), 2): (21 * 3600, 0),
        ((T0 + timedelta(days=1)).date().isoformat(), 1): (24 * 3600, 0),
        ((T0 + timedelta(days=1)).date().isoformat(), 2): (9 * 3600, 0),
        ((T0 + timedelta(days=2)).date().isoformat(), 1): (3600, 0),
    }


def _fleet(count):
    fleet = []
    for n in range(count):
        cp = make_charge_point()
        record(status(cp, at(-48), "Available", 1), status(cp, at(-48), "Available", 2),
               status(cp, at(1 + n), "Faulted", 1 + n % 2, "GroundFailure"), status(cp, at(3 + n), "Available", 1 + n % 2),
               charge(cp, at(8), 30, 0 if n % 3 == 0 else 5_000))
        fleet.append(cp)
    return fleet


def test_a_day_of_many_charge_points_equals_each_computed_alone():
    fleet = _fleet(4)
    now = at(12, day=2)
    rollups_refresh(now=now)
    together = {cp.pk: port_rows(cp) for cp in fleet}
    days = {row.charge_point_id: (row.attempts, row.successes, row.failures)
            for row in ChargePointDay.objects.filter(day=T0.date())}

    PortDay.objects.all().delete()
    ChargePointDay.objects.all().delete()
    for cp in fleet:
        rollup_day(charge_point=cp, day=T0.date(), now=now)

    assert {cp.pk: port_rows(cp) for cp in fleet} == together
    assert together[fleet[1].pk] == {(T0.date().isoformat(), 2): (7200, 0)}
    assert {row.charge_point_id: (row.attempts, row.successes, row.failures)
            for row in ChargePointDay.objects.filter(day=T0.date())} == days


def test_the_refresh_reads_a_day_of_many_charge_points_in_the_same_number_of_statements(require_postgres):
    def statements(count):
        PortDay.objects.all().delete()
        ChargePointDay.objects.all().delete()
        DirtyDay.objects.all().delete()
        fleet = _fleet(count)
        DirtyDay.objects.all().delete()
        rollups_mark_days((cp.pk, T0.date()) for cp in fleet)
        with CaptureQueriesContext(connection) as queries:
            rollups_refresh(now=at(12, day=2))
        return len(queries.captured_queries)

    assert statements(2) == statements(8)


def test_the_disconnections_of_many_charge_points_cost_no_statement_each(require_postgres):
    """The first heartbeat after each disconnection is read for all of them
    in one statement: 2 charge points or 8, each with a disconnection still
    in force at the day's start and three within it, the same statements."""
    def statements(count):
        PortDay.objects.all().delete()
        ChargePointDay.objects.all().delete()
        fleet = []
        for _n in range(count):
            cp = make_charge_point()
            record(status(cp, at(-48), "Available", 1), disconnected(cp, at(-2)), heartbeat(cp, at(1)),
                   *[event for hour in (4, 9, 15) for event in (disconnected(cp, at(hour)), heartbeat(cp, at(hour + 2)))])
            fleet.append(cp)
        DirtyDay.objects.all().delete()
        rollups_mark_days((cp.pk, T0.date()) for cp in fleet)
        with CaptureQueriesContext(connection) as queries:
            rollups_refresh(now=at(12, day=2))
        assert {row.charge_point_id: row.outage_seconds for row in ChargePointDay.objects.filter(day=T0.date())} == {
            cp.pk: 7 * 3600 for cp in fleet}
        return len(queries.captured_queries)

    assert statements(2) == statements(8)
