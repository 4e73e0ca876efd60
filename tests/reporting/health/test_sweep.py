"""reporting/health/sweep.py: exactly one report per problem, repeat
detections, auto-resolve and reports a person has taken over."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role
from chargepoints.models import ChargeOutcome, SignalKind
from reporting import services
from reporting.catalogue import Party, Reason, Source
from reporting.health.sweep import health_sweep, health_sweep_chunks
from reporting.models import EventKind, Report, ReportState
from tests.factories import (
    ChargeFactory,
    ChargePointFactory,
    HealthCheckSettingsFactory,
    SignalReadingFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def disconnected(**kwargs):
    return ChargePointFactory(state="disconnected", state_since=NOW - timedelta(minutes=30), **kwargs)


def come_back(cp, at):
    cp.state, cp.state_since = "available", at
    cp.save()


def kinds(report):
    return list(report.events.values_list("kind", flat=True))


def test_a_repeat_detection_leaves_the_open_report_as_it_is_instead_of_filing_another():
    cp = disconnected()
    health_sweep(now=NOW)
    before = Report.objects.get(charge_point=cp).updated_at

    result = health_sweep(now=NOW + timedelta(minutes=1))
    health_sweep(now=NOW + timedelta(minutes=2))

    report = Report.objects.get(charge_point=cp)
    # One episode: the problem never went away.
    assert (report.occurrences, report.last_seen_at, report.updated_at) == (1, NOW, before)
    assert kinds(report) == [EventKind.CREATED]
    assert result.as_dict()["seen_again"] == 1 and result.as_dict()["filed"] == 0


def test_the_database_refuses_a_second_unresolved_system_report():
    cp = disconnected()
    health_sweep(now=NOW)

    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.create(charge_point=cp, source=Source.SYSTEM, reason=Reason.DISCONNECTED,
                              assigned_party=Party.OPERATOR)


def test_a_cleared_condition_resolves_the_report_with_a_timeline_note():
    cp = disconnected()
    health_sweep(now=NOW)
    come_back(cp, NOW + timedelta(minutes=1))

    result = health_sweep(now=NOW + timedelta(minutes=2))

    report = Report.objects.get(charge_point=cp)
    assert report.state == ReportState.RESOLVED
    assert result.as_dict()["resolved"] == 1
    resolved = report.events.get(kind=EventKind.RESOLVED)
    assert resolved.actor_label == "System"
    assert "back online" in resolved.note


def test_after_resolving_a_new_problem_files_a_new_report():
    cp = disconnected()
    health_sweep(now=NOW)
    come_back(cp, NOW + timedelta(minutes=1))
    health_sweep(now=NOW + timedelta(minutes=2))
    cp.state, cp.state_since = "disconnected", NOW + timedelta(minutes=3)
    cp.save()

    health_sweep(now=NOW + timedelta(minutes=14))

    assert list(Report.objects.filter(charge_point=cp).order_by("id").values_list("state", flat=True)) == [
        ReportState.RESOLVED, ReportState.OPEN]


def test_a_report_a_person_took_over_stays_open_and_its_timeline_says_the_condition_cleared(member_factory):
    cp = disconnected()
    health_sweep(now=NOW)
    report = Report.objects.get(charge_point=cp)
    installer = member_factory(cp.operator, Role.INSTALLER)
    admin = member_factory(cp.operator, Role.ADMIN)
    services.report_assign(report=report, party=Party.OPERATOR, person=installer, by=admin)
    come_back(cp, NOW + timedelta(minutes=1))

    health_sweep(now=NOW + timedelta(minutes=2))
    health_sweep(now=NOW + timedelta(minutes=3))  # says it once, not every minute

    report.refresh_from_db()
    assert report.state == ReportState.ASSIGNED
    assert kinds(report) == [EventKind.CREATED, EventKind.ASSIGNED, EventKind.CONDITION_CLEARED]
    assert report.condition_cleared_at == NOW + timedelta(minutes=2)

    cp.state, cp.state_since = "disconnected", NOW + timedelta(minutes=4)
    cp.save()
    health_sweep(now=NOW + timedelta(minutes=15))

    report.refresh_from_db()
    assert kinds(report)[-1] == EventKind.RECURRED
    assert report.condition_cleared_at is None
    # The second episode: it cleared and came back while the report stayed open.
    assert (report.occurrences, report.last_seen_at) == (2, NOW + timedelta(minutes=15))
    assert Report.objects.filter(charge_point=cp).count() == 1


def test_auto_resolve_can_be_switched_off_for_everyone(settings):
    settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "auto_resolve": False}
    cp = disconnected()
    health_sweep(now=NOW)
    come_back(cp, NOW + timedelta(minutes=1))

    health_sweep(now=NOW + timedelta(minutes=2))

    report = Report.objects.get(charge_point=cp)
    assert report.state == ReportState.OPEN
    assert kinds(report) == [EventKind.CREATED, EventKind.CONDITION_CLEARED]


def test_auto_resolve_can_be_switched_off_for_one_team():
    kept, resolved = disconnected(), disconnected()
    HealthCheckSettingsFactory(team=kept.operator, auto_resolve=False)
    health_sweep(now=NOW)
    come_back(kept, NOW + timedelta(minutes=1))
    come_back(resolved, NOW + timedelta(minutes=1))

    health_sweep(now=NOW + timedelta(minutes=2))

    assert Report.objects.get(charge_point=kept).state == ReportState.OPEN
    assert Report.objects.get(charge_point=resolved).state == ReportState.RESOLVED


def test_failed_charges_clear_when_the_window_holds_no_failure():
    cp = ChargePointFactory()
    for minutes in (50, 40, 30):
        ChargeFactory(charge_point=cp, outcome=ChargeOutcome.FAILED, ended_at=NOW - timedelta(minutes=minutes))
    health_sweep(now=NOW)

    health_sweep(now=NOW + timedelta(minutes=29))  # the last failure is 59 minutes old
    assert Report.objects.get(charge_point=cp).state == ReportState.OPEN

    health_sweep(now=NOW + timedelta(minutes=31))
    assert Report.objects.get(charge_point=cp).state == ReportState.RESOLVED


def test_the_signal_clears_only_when_good_for_the_window():
    cp = ChargePointFactory(connectivity="wifi", wifi_signal_dbm=-90, wifi_signal_at=NOW)
    for minutes in (8, 4, 0):
        SignalReadingFactory(charge_point=cp, kind=SignalKind.WIFI, dbm=-90, occurred_at=NOW - timedelta(minutes=minutes))
    health_sweep(now=NOW)
    assert Report.objects.get(charge_point=cp).state == ReportState.OPEN

    for minutes in (4, 8, 12):
        SignalReadingFactory(charge_point=cp, kind=SignalKind.WIFI, dbm=-60, occurred_at=NOW + timedelta(minutes=minutes))
    health_sweep(now=NOW + timedelta(minutes=12))  # three good readings, but a weak one is still in the window
    assert Report.objects.get(charge_point=cp).state == ReportState.OPEN

    health_sweep(now=NOW + timedelta(minutes=16))  # 4, 8, 12 good; the weak ones left the window
    assert Report.objects.get(charge_point=cp).state == ReportState.RESOLVED


def test_a_switched_off_check_files_nothing_but_still_closes_its_open_reports():
    cp = disconnected()
    health_sweep(now=NOW)
    HealthCheckSettingsFactory(team=cp.operator, disconnected_enabled=False)
    other = disconnected(operator=cp.operator, owner=cp.owner, site=cp.site)
    come_back(cp, NOW + timedelta(minutes=1))

    health_sweep(now=NOW + timedelta(minutes=2))

    assert Report.objects.get(charge_point=cp).state == ReportState.RESOLVED
    assert not Report.objects.filter(charge_point=other).exists()


def test_a_chunk_sweeps_only_its_id_range():
    first, second = disconnected(), disconnected()

    health_sweep(first_id=first.pk, last_id=first.pk, now=NOW)

    assert list(Report.objects.values_list("charge_point_id", flat=True)) == [first.pk]
    assert second.pk > first.pk


def test_the_fleet_splits_into_id_ranges_that_cover_it():
    cps = ChargePointFactory.create_batch(5)
    lo, hi = cps[0].pk, cps[-1].pk

    chunks = health_sweep_chunks(chunk_size=2)

    assert chunks[0][0] == lo and chunks[-1][1] == hi
    assert all(b - a < 2 for a, b in chunks)
    assert all(chunks[i][1] + 1 == chunks[i + 1][0] for i in range(len(chunks) - 1))
    assert health_sweep_chunks(chunk_size=5) == [(None, None)]  # fits in one: no range at all


def test_a_chunk_finds_failed_charges_only_of_its_own_charge_points():
    first, second = ChargePointFactory.create_batch(2)
    for cp in (first, second):
        for _ in range(3):
            ChargeFactory(charge_point=cp, outcome=ChargeOutcome.FAILED, ended_at=NOW - timedelta(minutes=5))

    health_sweep(first_id=second.pk, last_id=second.pk, now=NOW)

    assert list(Report.objects.values_list("charge_point_id", flat=True)) == [second.pk]


def test_a_filed_report_notifies_the_operators_contacts_only_where_there_are_some(
    django_capture_on_commit_callbacks,
):
    from notifications.events import notifications_process_events
    from notifications.models import Notification
    from tests.factories import ReportContactFactory, ReportSettingsFactory

    watched, unwatched = disconnected(), disconnected()
    contact = ReportContactFactory(settings=ReportSettingsFactory(team=watched.operator))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        health_sweep(now=NOW)
        assert Notification.objects.count() == 0  # the sweep writes timeline rows only
        notifications_process_events()
    # One task for the whole sweep, however many reports and teams.
    names = [getattr(callback, "task_name", None) for callback in queued]
    assert names.count("notifications.process_events") == 1

    notified = Notification.objects.get()
    assert notified.report.charge_point == watched
    assert notified.recipient_email == contact.email
    assert Report.objects.filter(charge_point=unwatched).exists()


def test_a_sweep_filing_for_several_checks_queues_the_notifications_task_once(django_capture_on_commit_callbacks):
    disconnected()
    ChargePointFactory(state="error", state_since=NOW - timedelta(minutes=30))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        health_sweep(now=NOW)

    assert sorted(Report.objects.values_list("reason", flat=True)) == [Reason.DISCONNECTED, Reason.IN_ERROR]
    names = [getattr(callback, "task_name", None) for callback in queued]
    assert names.count("notifications.process_events") == 1
