"""Telemetry retention (chargepoints/services/retention.py): partitions
created ahead and dropped when past retention on PostgreSQL, rows deleted
on other databases, and the ingest still answering duplicates."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from chargepoints.models import Charge, Heartbeat, SignalReading, StateChange
from chargepoints.partitions import PARTITIONED, default_name, partitions
from chargepoints.services import DUPLICATE, telemetry_record_batch, telemetry_retention_apply
from chargepoints.tasks import telemetry_retention
from reporting.review_models import Review
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db

STATES, HEARTBEATS, SIGNALS = PARTITIONED


def _partition_of(model, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _names(spec) -> set[str]:
    with connection.cursor() as cursor:
        return set(partitions(cursor, spec))


def _record(cp, kind: str, event_id: str, at: datetime) -> str:
    event = {"event_id": event_id, "ocpp_id": cp.ocpp_id, "occurred_at": at.isoformat(), "type": kind}
    if kind == "signal":
        event |= {"kind": "wifi", "dbm": -60}
    if kind == "state_change":
        event |= {"state": "available"}
    if kind == "charge":
        event |= {"started_at": (at - timedelta(hours=1)).isoformat(), "ended_at": at.isoformat(), "energy_wh": 500}
    [result] = telemetry_record_batch(events=[event])
    return result.status


def test_rows_past_retention_are_gone_and_recent_ones_stay(charge_point, settings):
    """On every database: heartbeats and signals kept TELEMETRY_RETENTION_DAYS,
    state changes and charges TELEMETRY_HISTORY_RETENTION_DAYS."""
    settings.TELEMETRY_RETENTION_DAYS = 30
    settings.TELEMETRY_HISTORY_RETENTION_DAYS = 400
    now = timezone.now()
    for kind in ("heartbeat", "signal", "state_change", "charge"):
        _record(charge_point, kind, f"{kind}-recent", now - timedelta(days=2))
        _record(charge_point, kind, f"{kind}-month", now - timedelta(days=40))
        _record(charge_point, kind, f"{kind}-old", now - timedelta(days=420))

    telemetry_retention_apply(now=now)

    assert set(Heartbeat.objects.values_list("event_id", flat=True)) == {"heartbeat-recent"}
    assert set(SignalReading.objects.values_list("event_id", flat=True)) == {"signal-recent"}
    assert set(StateChange.objects.values_list("event_id", flat=True)) == {"state_change-recent", "state_change-month"}
    assert set(Charge.objects.values_list("event_id", flat=True)) == {"charge-recent", "charge-month"}


def test_the_task_deletes_the_old_rows_and_says_so(charge_point):
    now = timezone.now()
    # 200 days back: older than any day partition a test's data made.
    _record(charge_point, "heartbeat", "old", now - timedelta(days=200))
    _record(charge_point, "heartbeat", "new", now - timedelta(days=29))

    result = telemetry_retention()

    if connection.vendor == "postgresql":
        # No partition is made for a day long past: the old heartbeat waited
        # in the default partition and is deleted there.
        heartbeats = {table: n for table, n in result["deleted"].items() if table.startswith("chargepoints_heartbeat")}
        assert heartbeats == {default_name(HEARTBEATS): 1}
    else:
        assert result == {"created": [], "dropped": [], "deleted": {
            "chargepoints_statechange": 0, "chargepoints_heartbeat": 1, "chargepoints_signalreading": 0,
            "chargepoints_charge": 0}}
    assert list(Heartbeat.objects.values_list("event_id", flat=True)) == ["new"]


def test_a_charge_past_retention_leaves_its_review_without_it(charge_point):
    now = timezone.now()
    _record(charge_point, "charge", "old", now - timedelta(days=401))
    review = Review.objects.create(charge_point=charge_point, charge=Charge.objects.get(), rating=2)

    telemetry_retention_apply(now=now)

    review.refresh_from_db()
    assert review.charge is None
    assert not Charge.objects.exists()


def test_the_same_event_resent_is_a_duplicate_after_retention_ran(charge_point):
    at = timezone.now() - timedelta(days=3)
    assert _record(charge_point, "heartbeat", "h1", at) == "accepted"
    telemetry_retention_apply(now=at)  # on PostgreSQL: creates its day's partition, moving the row there
    assert _record(charge_point, "heartbeat", "h1", at) == DUPLICATE
    assert _record(charge_point, "state_change", "s1", at) == "accepted"
    assert _record(charge_point, "state_change", "s1", at) == DUPLICATE
    assert Heartbeat.objects.count() == 1 and StateChange.objects.count() == 1


def test_partitions_are_created_ahead(require_postgres):
    now = datetime(2031, 3, 5, 13, 0, tzinfo=UTC)  # a Wednesday, far past the migration's partitions

    created = telemetry_retention_apply(now=now).created

    # Every day up to seven days ahead, the one holding that moment included.
    days = [f"2031030{d}" for d in range(5, 10)] + ["20310310", "20310311", "20310312"]
    assert [name for name in created if name.startswith("chargepoints_heartbeat_")] == [
        f"chargepoints_heartbeat_p{day}" for day in days]
    assert [name for name in created if name.startswith("chargepoints_statechange_")] == [
        "chargepoints_statechange_p20310303", "chargepoints_statechange_p20310310"]
    assert {f"chargepoints_signalreading_p{day}" for day in days} <= _names(SIGNALS)
    # A second run finds them made.
    assert telemetry_retention_apply(now=now).created == []


def test_rows_land_in_their_periods_partition(charge_point, require_postgres):
    at = timezone.now()
    _record(charge_point, "heartbeat", "h", at)
    _record(charge_point, "state_change", "s", at)

    monday = at.date() - timedelta(days=at.weekday())
    assert _partition_of(Heartbeat, Heartbeat.objects.get().pk) == f"chargepoints_heartbeat_p{at:%Y%m%d}"
    assert _partition_of(StateChange, StateChange.objects.get().pk) == f"chargepoints_statechange_p{monday:%Y%m%d}"


def test_old_partitions_are_dropped_by_the_task_and_recent_ones_kept(charge_point, settings, require_postgres):
    settings.TELEMETRY_RETENTION_DAYS = 30
    now = timezone.now()
    old, recent = now - timedelta(days=35), now - timedelta(days=20)
    telemetry_retention_apply(now=old)
    telemetry_retention_apply(now=recent)
    _record(charge_point, "heartbeat", "old", old)
    _record(charge_point, "heartbeat", "recent", recent)
    old_partition = _partition_of(Heartbeat, Heartbeat.objects.get(event_id="old").pk)
    assert old_partition == f"chargepoints_heartbeat_p{old:%Y%m%d}"

    dropped = telemetry_retention_apply(now=now).dropped

    assert old_partition in dropped
    assert f"chargepoints_heartbeat_p{recent:%Y%m%d}" not in dropped
    assert old_partition not in _names(HEARTBEATS)
    # The partition holding the cutoff itself stays whole: nothing newer is lost.
    assert f"chargepoints_heartbeat_p{now - timedelta(days=30):%Y%m%d}" in _names(HEARTBEATS)
    assert list(Heartbeat.objects.values_list("event_id", flat=True)) == ["recent"]


def test_an_event_for_a_time_without_a_partition_is_stored_and_moves_into_its_partition_later(
        charge_point, require_postgres):
    late = timezone.now() - timedelta(days=3)  # the test database's partitions start today

    assert _record(charge_point, "heartbeat", "late", late) == "accepted"
    row = Heartbeat.objects.get()
    assert _partition_of(Heartbeat, row.pk) == "chargepoints_heartbeat_default"

    created = telemetry_retention_apply(now=late).created

    assert f"chargepoints_heartbeat_p{late:%Y%m%d}" in created
    assert _partition_of(Heartbeat, row.pk) == f"chargepoints_heartbeat_p{late:%Y%m%d}"
    assert Heartbeat.objects.get().event_id == "late"


def test_the_command_says_what_it_created_and_dropped(require_postgres, capsys):
    old = timezone.now() - timedelta(days=40)
    telemetry_retention_apply(now=old)

    call_command("telemetry_retention")

    out = capsys.readouterr().out
    assert f"dropped chargepoints_heartbeat_p{old:%Y%m%d}" in out
    assert "partitions created" in out


def test_a_migration_schedules_the_task_daily():
    task = PeriodicTask.objects.get(task="chargepoints.telemetry_retention")
    assert task.enabled and (task.crontab.minute, task.crontab.hour) == ("15", "2")


@pytest.mark.parametrize(("variables", "message"), [
    ({"TELEMETRY_RETENTION_DAYS": "1"}, "TELEMETRY_RETENTION_DAYS is 1; it must be at least 2"),
    ({"TELEMETRY_HISTORY_RETENTION_DAYS": "365"}, "the performance figures cover 365 days"),
    ({"TELEMETRY_RETENTION_DAYS": "500", "TELEMETRY_HISTORY_RETENTION_DAYS": "400"}, "at least TELEMETRY_RETENTION"),
    ({"TELEMETRY_PARTITIONS_AHEAD_DAYS": "0"}, "TELEMETRY_PARTITIONS_AHEAD_DAYS is 0"),
])
def test_settings_refuse_a_retention_that_would_lose_what_the_product_needs(monkeypatch, variables, message):
    import config.settings.telemetry as module

    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    try:
        with pytest.raises(ImproperlyConfigured, match=message):
            importlib.reload(module)
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def _relkind(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_migration_partitions_the_tables_keeping_their_rows_and_back(require_postgres):
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("chargepoints", "0010_operated_for_others_index")], [("chargepoints", "0011_telemetry_partitions")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        cp = ChargePointFactory()
        old = timezone.now() - timedelta(days=100)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO chargepoints_heartbeat (charge_point_id, event_id, received_at, occurred_at) "
                "SELECT %s, 'h' || g, now(), %s + g * interval '1 day' FROM generate_series(0, 99) g", [cp.pk, old])
            cursor.execute(
                "INSERT INTO chargepoints_statechange (charge_point_id, event_id, received_at, occurred_at, state, "
                "ocpp_status, error_code, vendor_error_code) SELECT %s, 's' || g, now(), %s + g * interval '1 day', "
                "'available', '', '', '' FROM generate_series(0, 99) g", [cp.pk, old])
            cursor.execute("SELECT id FROM chargepoints_heartbeat ORDER BY id")
            ids = [row[0] for row in cursor.fetchall()]
        assert _relkind("chargepoints_heartbeat") == "r"

        executor = MigrationExecutor(connection)
        executor.migrate(after)

        assert _relkind("chargepoints_heartbeat") == "p" and _relkind("chargepoints_statechange") == "p"
        assert list(Heartbeat.objects.order_by("id").values_list("id", flat=True)) == ids
        assert StateChange.objects.count() == 100
        first = Heartbeat.objects.get(event_id="h0")
        assert _partition_of(Heartbeat, first.pk) == f"chargepoints_heartbeat_p{old:%Y%m%d}"
        # New rows take ids after the copied ones, and a resend is still a duplicate.
        assert _record(cp, "heartbeat", "new", timezone.now()) == "accepted"
        assert Heartbeat.objects.get(event_id="new").pk > max(ids)
        assert _record(cp, "heartbeat", "h0", first.occurred_at) == DUPLICATE

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(before)

        assert _relkind("chargepoints_heartbeat") == "r" and _relkind("chargepoints_statechange") == "r"
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM chargepoints_heartbeat")
            assert cursor.fetchone()[0] == 101
            cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = "
                           "'heartbeat_cp_event_id_uniq'")
            assert cursor.fetchone()[0] == "UNIQUE (charge_point_id, event_id)"
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
