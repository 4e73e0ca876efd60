"""reporting/health/engine.py: the incremental engine looks only at what
telemetry changed or what came due, files and clears exactly as the full
sweep would, writes nothing when nothing changed, and its hourly
reconciliation finds no difference."""

import itertools
import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from chargepoints.health_marks import health_marks_pending
from chargepoints.models import ChargePoint, HealthMark
from chargepoints.services import telemetry_record_batch
from reporting import services
from reporting.catalogue import Party, Reason, Source
from reporting.health import engine
from reporting.health.engine import health_pass, health_reconcile
from reporting.maintenance import maintenance_window_create
from reporting.models import (
    EventKind,
    HealthDeadline,
    HealthEngineState,
    HealthFlip,
    Report,
    ReportState,
    SilencedDetection,
)
from tests.factories import ChargePointFactory, HealthCheckSettingsFactory, SiteFactory

pytestmark = pytest.mark.django_db

# Telemetry must not lie in the future: the story happens in the past hours.
T0 = timezone.now().replace(microsecond=0) - timedelta(hours=3)
_ids = itertools.count()


def at(minutes: float):
    return T0 + timedelta(minutes=minutes)


def send(*events):
    results = telemetry_record_batch(events=[{"event_id": f"e{next(_ids)}", **event} for event in events])
    assert {r.status for r in results} == {"accepted"}, [r.errors for r in results]


def state(cp, value, minute):
    return {"type": "state_change", "ocpp_id": cp.ocpp_id, "state": value, "occurred_at": at(minute).isoformat()}


def signal(cp, dbm, minute, kind="wifi"):
    return {"type": "signal", "ocpp_id": cp.ocpp_id, "kind": kind, "dbm": dbm, "occurred_at": at(minute).isoformat()}


def failed_charge(cp, minute):
    return {"type": "charge", "ocpp_id": cp.ocpp_id, "occurred_at": at(minute).isoformat(),
            "started_at": at(minute - 1).isoformat(), "ended_at": at(minute).isoformat(), "energy_wh": 0}


def open_reports(cp=None):
    reports = Report.objects.filter(source=Source.SYSTEM).exclude(state=ReportState.RESOLVED)
    return reports.filter(charge_point=cp) if cp is not None else reports


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE"}
            or (q["sql"].upper().startswith("DELETE") and "RETURNING" not in q["sql"].upper())]


@pytest.fixture(autouse=True)
def started():
    """The engine's first pass (a full one) before the story begins."""
    result = health_pass(now=at(-60))
    assert result.full == "fleet"


def cp_available(**kwargs):
    return ChargePointFactory(state="available", state_since=at(-120), **kwargs)


def test_a_disconnection_is_filed_when_its_stored_deadline_passes_and_not_before():
    cp = cp_available()
    send(state(cp, "disconnected", 0))

    first = health_pass(now=at(1))
    assert (first.changed, first.looked_at, first.sweep.as_dict()["filed"]) == (1, 1, 0)
    deadline = HealthDeadline.objects.get(charge_point=cp, reason=Reason.DISCONNECTED)
    assert deadline.due_at == at(10) + timedelta(microseconds=1)

    with CaptureQueriesContext(connection) as quiet:
        nothing = health_pass(now=at(5))
    assert (nothing.changed, nothing.due, nothing.looked_at) == (0, 0, 0)
    assert writes(quiet.captured_queries) == []
    assert len(quiet.captured_queries) <= 12

    filed = health_pass(now=at(11))
    assert (filed.due, filed.sweep.as_dict()["filed"]) == (1, 1)
    report = open_reports(cp).get()
    assert report.reason == Reason.DISCONNECTED
    assert not HealthDeadline.objects.filter(charge_point=cp, reason=Reason.DISCONNECTED).exists()

    with CaptureQueriesContext(connection) as later:
        health_pass(now=at(30))
    assert writes(later.captured_queries) == []
    report.refresh_from_db()
    assert (report.occurrences, report.state) == (1, ReportState.OPEN)


def test_coming_back_resolves_the_report_on_the_next_pass():
    cp = cp_available()
    send(state(cp, "disconnected", 0))
    health_pass(now=at(1))
    health_pass(now=at(11))
    send(state(cp, "available", 20))

    result = health_pass(now=at(21))

    assert result.sweep.as_dict()["resolved"] == 1
    assert not open_reports(cp).exists()
    assert Report.objects.get(charge_point=cp).state == ReportState.RESOLVED


def test_failed_charges_file_at_once_and_resolve_when_the_last_one_leaves_the_window():
    cp = cp_available()
    send(failed_charge(cp, 1), failed_charge(cp, 2), failed_charge(cp, 3))

    health_pass(now=at(4))
    assert open_reports(cp).get().reason == Reason.FAILED_CHARGES
    # The last failure ended at minute 3; the window is an hour.
    assert HealthDeadline.objects.get(charge_point=cp, reason=Reason.FAILED_CHARGES).due_at == at(63)

    health_pass(now=at(62))
    assert open_reports(cp).exists()
    result = health_pass(now=at(63))
    assert result.due == 1
    assert not open_reports(cp).exists()


def test_a_weak_signal_files_when_the_last_good_reading_leaves_the_window():
    cp = cp_available()
    send(signal(cp, -60, 0), signal(cp, -90, 2), signal(cp, -90, 4), signal(cp, -90, 6))

    health_pass(now=at(7))  # the good reading is still within the 15 minutes
    assert not open_reports(cp).exists()
    assert HealthDeadline.objects.get(charge_point=cp, reason=Reason.BAD_WIFI).due_at == at(15)

    health_pass(now=at(15))
    assert open_reports(cp).get().reason == Reason.BAD_WIFI

    send(signal(cp, -60, 16), signal(cp, -60, 17), signal(cp, -60, 18))
    health_pass(now=at(19))  # weak readings still within the window
    assert open_reports(cp).exists()
    health_pass(now=at(21))  # the last weak one (minute 6) left at minute 21
    assert not open_reports(cp).exists()


def test_a_skipped_or_failed_pass_is_caught_up_by_the_next(monkeypatch):
    cps = [cp_available() for _ in range(3)]
    send(*[state(cp, "error", minute) for minute, cp in enumerate(cps)])

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(engine, "health_sweep", broken)
    with pytest.raises(RuntimeError):
        health_pass(now=at(5))
    monkeypatch.undo()
    assert health_marks_pending() == 3  # rolled back with the pass

    # No pass for half an hour: one pass files all three.
    result = health_pass(now=at(35))
    assert result.sweep.as_dict()["filed"] == 3
    assert set(open_reports().values_list("charge_point_id", flat=True)) == {cp.pk for cp in cps}
    assert HealthEngineState.objects.get().high_water_mark == at(35)


def test_passes_one_after_the_other_file_nothing_twice():
    cp = cp_available()
    send(state(cp, "disconnected", 0))
    for minute in range(1, 30):
        health_pass(now=at(minute))
    assert Report.objects.filter(charge_point=cp).count() == 1


def test_occurrences_count_episodes_of_a_report_a_person_kept(member_factory):
    cp = cp_available()
    send(state(cp, "disconnected", 0))
    health_pass(now=at(1))
    health_pass(now=at(11))
    report = open_reports(cp).get()
    admin = member_factory(cp.operator, Role.ADMIN)
    services.report_assign(report=report, party=Party.OPERATOR, person=admin, by=admin)

    for episode in range(3):
        send(state(cp, "available", 20 + 30 * episode))
        health_pass(now=at(21 + 30 * episode))
        send(state(cp, "disconnected", 25 + 30 * episode))
        health_pass(now=at(26 + 30 * episode))
        health_pass(now=at(36 + 30 * episode))

    report.refresh_from_db()
    assert report.occurrences == 4
    assert report.last_seen_at == at(36 + 60)
    assert list(report.events.filter(kind=EventKind.RECURRED).values_list("kind", flat=True)) == [
        EventKind.RECURRED] * 3


def test_a_team_threshold_change_re_evaluates_that_team_once():
    cp = cp_available()
    HealthCheckSettingsFactory(team=cp.operator, disconnected_minutes=60)
    health_pass(now=at(-1))  # the override is in force
    send(state(cp, "disconnected", 0))
    health_pass(now=at(1))
    health_pass(now=at(20))
    assert not open_reports(cp).exists()  # waits for an hour

    settings = cp.operator.health_check_settings
    settings.disconnected_minutes = 15
    settings.save()
    result = health_pass(now=at(21))

    assert result.full == "teams"
    assert open_reports(cp).get().reason == Reason.DISCONNECTED
    assert health_pass(now=at(22)).full == ""  # once


def test_a_change_of_the_defaults_re_evaluates_the_fleet(settings):
    cp = cp_available()
    send(state(cp, "disconnected", 0))
    health_pass(now=at(1))
    settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "disconnected": {"enabled": True, "minutes": 3}}

    result = health_pass(now=at(4))

    assert result.full == "fleet"
    assert open_reports(cp).get().reason == Reason.DISCONNECTED
    assert not HealthDeadline.objects.filter(charge_point=cp, reason=Reason.DISCONNECTED).exists()


def test_what_a_maintenance_window_silenced_is_filed_when_it_ends():
    cp = cp_available()
    maintenance_window_create(by=None, team=cp.owner, charge_point=cp, reason="New cable",
                              starts_at=at(-5), ends_at=at(30))
    send(state(cp, "disconnected", 0))
    health_pass(now=at(1))
    health_pass(now=at(11))
    assert not open_reports(cp).exists()
    assert SilencedDetection.objects.filter(charge_point=cp).exists()

    health_pass(now=at(29))
    assert not open_reports(cp).exists()
    health_pass(now=at(31))
    assert open_reports(cp).get().reason == Reason.DISCONNECTED


def test_a_site_outage_is_filed_from_the_charge_points_deadlines():
    site = SiteFactory()
    cps = [cp_available(site=site, owner=site.team) for _ in range(3)]
    send(*[state(cp, "disconnected", 0) for cp in cps])
    health_pass(now=at(1))

    health_pass(now=at(11))

    assert open_reports().get().reason == Reason.SITE_OFFLINE
    send(state(cps[0], "available", 12), state(cps[1], "available", 12))
    health_pass(now=at(13))
    # The site is back; the one still down files its own.
    assert list(open_reports().values_list("reason", "charge_point")) == [(Reason.DISCONNECTED, cps[2].pk)]


def test_the_reconciliation_finds_nothing_after_incremental_passes_and_repairs_a_change_behind_its_back(caplog):
    cp = cp_available()
    send(state(cp, "error", 0))
    health_pass(now=at(1))
    health_pass(now=at(11))

    clean = health_reconcile(now=at(12))
    assert clean.total == 0
    assert HealthEngineState.objects.get().last_reconciled_at == at(12)

    # A change that did not come through telemetry: no mark.
    hidden = cp_available()
    ChargePoint.objects.filter(pk=hidden.pk).update(state="disconnected", state_since=at(0))
    health_pass(now=at(13))
    assert not open_reports(hidden).exists()

    found = health_reconcile(now=at(14))

    assert found.differences["unfiled"] == 1
    assert "Health reconciliation: 1 difference" in caplog.text
    assert open_reports(hidden).get().reason == Reason.DISCONNECTED
    state_row = HealthEngineState.objects.get()
    assert (state_row.reconciliation_differences, state_row.last_differences["unfiled"]) == (1, 1)
    assert health_reconcile(now=at(15)).total == 0


def test_random_telemetry_leaves_the_incremental_state_equal_to_a_full_evaluation():
    """A fleet's hour of random telemetry, a pass every minute: at every
    reconciliation, the incremental engine agrees with the full checks."""
    rng = random.Random(13)
    site = SiteFactory()
    cps = [cp_available(site=site, owner=site.team) for _ in range(6)] + [cp_available() for _ in range(6)]
    admin_kept = None
    for minute in range(0, 90):
        events = []
        for cp in cps:
            roll = rng.random()
            if roll < 0.05:
                events.append(state(cp, rng.choice(["disconnected", "error", "available"]), minute))
            elif roll < 0.15:
                events.append(signal(cp, rng.choice([-95, -85, -60]), minute, kind=rng.choice(["wifi", "cellular"])))
            elif roll < 0.20:
                events.append(failed_charge(cp, minute))
        if events:
            send(*events)
        health_pass(now=at(minute) + timedelta(seconds=30))
        if admin_kept is None and open_reports().exists():
            admin_kept = open_reports().first()
            services.report_assign(report=admin_kept, party=Party.SUPPORT, person=None, by=None)
        if minute % 15 == 14:
            result = health_reconcile(now=at(minute) + timedelta(seconds=45))
            assert result.total == 0, result.examples
    assert Report.objects.filter(source=Source.SYSTEM).count() > 5
    assert HealthMark.objects.count() == 0


def test_a_maintenance_window_deleted_early_lets_what_it_silenced_file_on_the_next_pass():
    from reporting.maintenance import maintenance_window_delete

    cp = cp_available()
    window = maintenance_window_create(by=None, team=cp.owner, charge_point=cp, reason="New cable",
                                       starts_at=at(-5), ends_at=at(120))
    send(state(cp, "disconnected", 0))
    health_pass(now=at(1))
    health_pass(now=at(11))
    assert not open_reports(cp).exists()

    maintenance_window_delete(window=window, by=None)
    health_pass(now=at(12))

    assert open_reports(cp).get().reason == Reason.DISCONNECTED


def test_a_good_reading_with_nothing_weak_or_open_is_not_looked_at_and_successful_charges_are_not_marks():
    quiet_cp, weak_cp = cp_available(), cp_available()
    send(signal(quiet_cp, -60, 1), signal(weak_cp, -90, 1),
         {"type": "charge", "ocpp_id": quiet_cp.ocpp_id, "occurred_at": at(2).isoformat(),
          "started_at": at(0).isoformat(), "ended_at": at(2).isoformat(), "energy_wh": 12000})

    result = health_pass(now=at(3))

    # Both were marked for their readings; only the weak one matters.
    assert (result.changed, result.looked_at) == (2, 1)
    assert HealthDeadline.objects.filter(charge_point=weak_cp).exists() is False  # fewer readings than needed


def test_a_backlog_larger_than_a_pass_takes_becomes_one_full_evaluation(monkeypatch):
    from chargepoints import health_marks

    monkeypatch.setattr(health_marks, "TAKE_LIMIT", 2)
    monkeypatch.setattr(health_marks.health_marks_take, "__kwdefaults__", {"limit": 2})
    cps = [cp_available() for _ in range(4)]
    send(*[state(cp, "error", 0) for cp in cps])

    result = health_pass(now=at(20))

    assert result.full == "fleet"
    assert open_reports().count() == 4
    assert health_marks_pending() == 0


def test_a_deadline_or_flip_that_outlived_its_charge_point_is_dropped_quietly():
    # The engine's rows keep no database foreign key (reporting/health_models.py):
    # a charge point deleted behind the application's back leaves them.
    gone = cp_available()
    gone_id = gone.pk
    HealthDeadline.objects.create(charge_point_id=gone_id, reason=Reason.DISCONNECTED, due_at=at(1))
    HealthFlip.objects.create(charge_point_id=gone_id, reason=Reason.DISCONNECTED, healthy=False, at=at(-200))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM chargepoints_chargepoint WHERE id = %s", [gone_id])

    result = health_pass(now=at(2))

    assert (result.due, result.sweep.as_dict()["filed"]) == (1, 0)
    assert not HealthDeadline.objects.filter(charge_point_id=gone_id).exists()
    assert not HealthFlip.objects.filter(charge_point_id=gone_id).exists()


def test_deleting_a_charge_point_deletes_its_deadlines_and_flips():
    cp = cp_available()
    HealthDeadline.objects.create(charge_point=cp, reason=Reason.DISCONNECTED, due_at=at(100))
    HealthFlip.objects.create(charge_point=cp, reason=Reason.DISCONNECTED, healthy=False, at=at(0))

    cp.delete()

    assert not HealthDeadline.objects.exists()
    assert not HealthFlip.objects.exists()


def test_the_reconciliation_rewrites_the_teams_of_a_report_filed_across_a_move(caplog):
    from tests.factories import TeamFactory

    cp = cp_available()
    send(state(cp, "error", 0))
    health_pass(now=at(11))
    report = open_reports(cp).get()
    health_reconcile(now=at(12))
    # The sweep read the charge point's teams, a move committed and
    # rewrote the reports it could see, then the sweep's report went in.
    former = TeamFactory()
    Report.objects.filter(pk=report.pk).update(owner_team=former, operator_team=former)

    found = health_reconcile(now=at(13))

    assert found.differences["stale_teams"] == 1
    assert found.repaired is None  # nothing for a full pass to do
    report.refresh_from_db()
    assert (report.owner_team_id, report.operator_team_id) == (cp.owner_id, cp.operator_id)
    assert "stale_teams" in caplog.text
    assert health_reconcile(now=at(14)).total == 0
