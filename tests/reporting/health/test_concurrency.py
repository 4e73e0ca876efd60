"""Two (or more) sweeps or engine passes at once on PostgreSQL: no duplicate
report, one note and one resolution per report."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from chargepoints.models import ChargeOutcome, ChargePoint
from reporting import services
from reporting.catalogue import Party, Reason, Source
from reporting.health.sweep import health_sweep
from reporting.models import EventKind, Report, ReportEvent, ReportState
from tests.concurrency import run_at_once
from tests.factories import ChargeFactory, ChargePointFactory, SiteFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SWEEPS = 4


def run_in_parallel(now):
    run_at_once(*[lambda: health_sweep(now=now)] * SWEEPS)


def test_parallel_sweeps_file_each_problem_once(require_postgres, member_factory):
    now = timezone.now()
    site = SiteFactory()
    gone = ChargePointFactory.create_batch(
        40, site=site, state="disconnected", state_since=now - timedelta(minutes=20)
    )
    broken = ChargePointFactory.create_batch(20, site=site, state="error", state_since=now - timedelta(minutes=20))
    for cp in broken[:10]:
        for _ in range(3):
            ChargeFactory(charge_point=cp, outcome=ChargeOutcome.FAILED, ended_at=now - timedelta(minutes=5))

    run_in_parallel(now)

    system = Report.objects.filter(source=Source.SYSTEM)
    assert system.count() == 40 + 20 + 10
    # One sweep filed each report; the others found it open: one episode.
    assert set(system.values_list("occurrences", flat=True)) == {1}
    assert ReportEvent.objects.filter(kind=EventKind.CREATED).count() == 70

    run_in_parallel(now + timedelta(minutes=1))

    assert system.count() == 70
    assert set(system.values_list("occurrences", flat=True)) == {1}

    # A person takes one over; then everything comes back.
    taken = system.get(charge_point=gone[0], reason=Reason.DISCONNECTED)
    admin = member_factory(site.team, Role.ADMIN)
    services.report_assign(report=taken, party=Party.OPERATOR, person=admin, by=admin)
    ChargePoint.objects.filter(pk__in=[cp.pk for cp in gone + broken]).update(state="available", state_since=now)

    run_in_parallel(now + timedelta(minutes=2))

    assert ReportEvent.objects.filter(kind=EventKind.RESOLVED).count() == 40 + 20 - 1
    assert ReportEvent.objects.filter(kind=EventKind.CONDITION_CLEARED).count() == 1
    assert system.filter(state=ReportState.RESOLVED).count() == 59
    # The failed charges are still within the hour: those reports stay open.
    assert system.filter(reason=Reason.FAILED_CHARGES).exclude(state=ReportState.RESOLVED).count() == 10


def test_parallel_engine_passes_file_each_problem_once_and_take_each_mark_once(require_postgres):
    from chargepoints.models import HealthMark
    from chargepoints.services import telemetry_record_batch
    from reporting.health.engine import health_pass

    start = timezone.now() - timedelta(hours=1)
    health_pass(now=start)
    cps = ChargePointFactory.create_batch(30, state="available", state_since=start - timedelta(hours=1))
    telemetry_record_batch(events=[
        {"event_id": f"down-{cp.pk}", "type": "state_change", "ocpp_id": cp.ocpp_id, "state": "error",
         "occurred_at": (start + timedelta(minutes=1)).isoformat()} for cp in cps
    ])
    results = []
    run_at_once(*[lambda: results.append(health_pass(now=start + timedelta(minutes=2)))] * SWEEPS)
    # Whichever pass took the marks stored the deadlines; the others were
    # busy or found nothing.
    assert sum(r.changed for r in results) == 30
    assert not HealthMark.objects.exists()

    results.clear()
    run_at_once(*[lambda: results.append(health_pass(now=start + timedelta(minutes=12)))] * SWEEPS)

    assert sum(r.sweep.as_dict()["filed"] for r in results) == 30
    assert Report.objects.filter(source=Source.SYSTEM, reason=Reason.IN_ERROR).count() == 30
    assert ReportEvent.objects.filter(kind=EventKind.CREATED).count() == 30
