"""One catalogue, one filing path: the system reasons are listed once
(reporting.catalogue.SYSTEM_REASONS), and the sweep files through
reporting.services.filing.report_file_system_bulk, routed by the routing table."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from reporting.catalogue import REASONS_BY_SOURCE, SYSTEM_REASONS, Party, Source
from reporting.health import checks
from reporting.health.sweep import health_sweep
from reporting.health.thresholds import default_thresholds
from reporting.models import EventKind, Report
from reporting.services import filing
from tests.factories import ChargePointFactory


def test_every_system_reason_has_exactly_one_check_and_thresholds():
    assert list(checks.CHECKS) == list(SYSTEM_REASONS)
    assert REASONS_BY_SOURCE[Source.SYSTEM] == frozenset(SYSTEM_REASONS)
    assert list(default_thresholds()) == list(SYSTEM_REASONS)


def test_a_check_list_that_misses_a_reason_does_not_import():
    with pytest.raises(ImportError, match="one per system reason"):
        checks._by_reason(checks._CHECKS[:-1])
    with pytest.raises(ImportError, match="one per system reason"):
        checks._by_reason([*checks._CHECKS, replace(checks._CHECKS[0])])


@pytest.mark.django_db
def test_the_sweep_routes_each_report_and_its_timeline_by_the_routing_table(monkeypatch):
    """Whatever the routing table says, the report and its "created" row
    agree (the timeline used to say "operator" whatever the insert did)."""
    now = timezone.now()
    cp = ChargePointFactory(state="disconnected", state_since=now - timedelta(hours=1))
    monkeypatch.setattr(filing, "first_party", lambda *, source, charge_point: Party.OWNER)
    health_sweep(now=now)
    report = Report.objects.get(charge_point=cp)
    created = report.events.get(kind=EventKind.CREATED)
    assert (report.assigned_party, created.to_party) == (Party.OWNER, Party.OWNER)
    assert created.note == "Filed by the health checks and routed to the team owner automatically."


@pytest.mark.django_db
def test_system_reports_go_to_the_operator_by_default():
    now = timezone.now()
    cp = ChargePointFactory(state="error", state_since=now - timedelta(hours=1))
    health_sweep(now=now)
    report = Report.objects.get(charge_point=cp)
    assert report.assigned_party == report.events.get(kind=EventKind.CREATED).to_party == Party.OPERATOR
