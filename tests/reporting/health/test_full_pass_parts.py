"""reporting/health/engine.py, a full evaluation in parts (PostgreSQL,
HEALTH_CHECKS["full_pass_workers"]): the parts run at the same time on
connections of their own and together file, store and count exactly what
one part does; a part that fails fails the pass, and the next pass files
the rest without filing anything twice."""

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from chargepoints.models import ChargeOutcome, ChargePoint
from reporting.catalogue import Source
from reporting.health import engine
from reporting.health.engine import health_pass
from reporting.models import HealthDeadline, HealthEngineState, HealthFlip, Report, ReportEvent
from tests.factories import ChargeFactory, ChargePointFactory, SiteFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def fleet(require_postgres):
    """Forty charge points over three sites: some in trouble for each kind
    of check, some on their way to it (deadlines), the rest healthy."""
    now = timezone.now().replace(microsecond=0)
    sites = SiteFactory.create_batch(3)
    for index in range(40):
        site = sites[index % 3]
        kind = index % 5
        if kind == 0:
            ChargePointFactory(site=site, state="disconnected", state_since=now - timedelta(minutes=30))
        elif kind == 1:
            ChargePointFactory(site=site, state="error", state_since=now - timedelta(minutes=30 + index))
        elif kind == 2:
            cp = ChargePointFactory(site=site, state="available", state_since=now - timedelta(hours=2))
            for minutes in (5, 10, 15):
                ChargeFactory(charge_point=cp, outcome=ChargeOutcome.FAILED,
                              ended_at=now - timedelta(minutes=minutes))
        elif kind == 3:
            # Not yet reportable: a deadline.
            ChargePointFactory(site=site, state="disconnected", state_since=now - timedelta(minutes=4))
        else:
            ChargePointFactory(site=site, state="available", state_since=now - timedelta(hours=2))
    return now


def outcome():
    reports = sorted(Report.objects.filter(source=Source.SYSTEM).values_list(
        "charge_point_id", "reason", "description", "assigned_party", "owner_team_id", "operator_team_id"))
    events = ReportEvent.objects.count()
    deadlines = sorted(HealthDeadline.objects.values_list("charge_point_id", "reason", "due_at"))
    flips = sorted(HealthFlip.objects.values_list("charge_point_id", "reason", "healthy"))
    return reports, events, deadlines, flips


def forget():
    ReportEvent.objects.all().delete()
    Report.objects.all().delete()
    for model in (HealthDeadline, HealthFlip, HealthEngineState):
        model.objects.all().delete()


@pytest.fixture
def threads_of_sweeps(monkeypatch):
    """The threads each chunk of the evaluation ran in."""
    seen = []
    sweep = engine.health_sweep

    def spy(**kwargs):
        seen.append(threading.current_thread().name)
        return sweep(**kwargs)

    monkeypatch.setattr(engine, "health_sweep", spy)
    return seen


def test_a_first_pass_in_parts_files_stores_and_counts_what_one_part_does(fleet, settings, threads_of_sweeps):
    settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "full_pass_workers": 3}
    in_parts = health_pass(now=fleet)

    assert in_parts.full == "fleet"
    assert len(set(threads_of_sweeps)) == 3
    assert all(name.startswith("health-part") for name in threads_of_sweeps)
    expected = outcome()
    assert len(expected[0]) == 24  # 8 disconnected, 8 in error, 8 failed charges
    assert expected[2], "the charge points on their way to a report have deadlines"

    forget()
    threads_of_sweeps.clear()
    settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "full_pass_workers": 1}
    one_part = health_pass(now=fleet)

    assert set(threads_of_sweeps) == {threading.current_thread().name}
    assert outcome() == expected
    assert one_part.sweep.as_dict() == in_parts.sweep.as_dict()


def test_within_a_callers_transaction_the_evaluation_stays_in_it(fleet, settings, threads_of_sweeps):
    settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "full_pass_workers": 3}
    with transaction.atomic():
        health_pass(now=fleet)
        # Parts on other connections could not see the caller's own writes.
        assert set(threads_of_sweeps) == {threading.current_thread().name}
        assert Report.objects.filter(source=Source.SYSTEM).count() == 24


def test_a_failed_part_fails_the_pass_and_the_next_pass_files_the_rest_once(fleet, settings, monkeypatch):
    settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "full_pass_workers": 2}
    sweep = engine.health_sweep
    failing = {"on": True}
    lowest = ChargePoint.objects.order_by("pk").values_list("pk", flat=True).first()

    def second_part_fails(**kwargs):
        if failing["on"] and kwargs["first_id"] > lowest:
            raise RuntimeError("the database went away")
        return sweep(**kwargs)

    monkeypatch.setattr(engine, "health_sweep", second_part_fails)

    with pytest.raises(RuntimeError, match="went away"):
        health_pass(now=fleet)

    # The pass saved nothing of its own; the first part committed its reports.
    assert HealthEngineState.objects.filter(high_water_mark__isnull=False).count() == 0
    filed_before = Report.objects.filter(source=Source.SYSTEM).count()
    assert 0 < filed_before < 24

    failing["on"] = False
    retried = health_pass(now=fleet)

    assert retried.full == "fleet"
    reports = Report.objects.filter(source=Source.SYSTEM)
    assert reports.count() == 24
    assert sorted(set(reports.values_list("charge_point_id", "reason"))) == sorted(
        reports.values_list("charge_point_id", "reason"))
    assert set(reports.values_list("occurrences", flat=True)) == {1}
    assert HealthEngineState.objects.get().high_water_mark == fleet
