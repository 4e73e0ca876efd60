"""The outage ledger (performance/ledger.py) against hand-computed histories."""

from datetime import timedelta

import pytest

from accounts.models import AuditLog
from performance.exclusions import exclusion_add, exclusion_remove, site_outage_cause_mark
from performance.ledger import ledger_attach_reports, ledger_for
from performance.models import Exclusion
from reporting.catalogue import Reason, Source
from reporting.maintenance import maintenance_window_create
from tests.factories import ReportFactory

from .conftest import T0, at, disconnected, heartbeat, make_charge_point, record, status

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def spans(outages):
    return [(o.start, o.end) for o in outages]


def test_overlapping_faults_on_two_connectors_count_per_port_and_once_for_the_charge_point(cp):
    record(status(cp, at(10), "Faulted", 1, "GroundFailure"), status(cp, at(11), "Faulted", 2, "OverVoltage"),
           status(cp, at(12), "Available", 1), status(cp, at(13), "Available", 2))

    ledger = ledger_for(charge_point=cp, start=T0, end=T0 + DAY)

    assert spans(ledger.ports[1]) == [(at(10), at(12))]
    assert spans(ledger.ports[2]) == [(at(11), at(13))]
    assert ledger.ports[1][0].cause.key == "error:GroundFailure"
    assert ledger.ports[2][0].cause.key == "error:OverVoltage"
    # The charge point could not charge only while both were down.
    assert spans(ledger.charge_point) == [(at(11), at(12))]
    assert ledger.minutes == 24 * 60


def test_an_outage_spanning_a_period_boundary_is_split_at_the_boundary(cp):
    record(status(cp, at(22), "Faulted", 1, "PowerMeterFailure"), status(cp, at(2, day=1), "Available", 1))

    first = ledger_for(charge_point=cp, start=T0, end=T0 + DAY)
    second = ledger_for(charge_point=cp, start=T0 + DAY, end=T0 + 2 * DAY)

    assert [o.seconds for o in first.ports[1]] == [2 * 3600]
    assert first.ports[1][0].ongoing
    assert [o.seconds for o in second.ports[1]] == [2 * 3600]
    assert second.ports[1][0].cause.key == "error:PowerMeterFailure"  # carried over from the day before
    assert first.end_state == {1: first.ports[1][0].cause, 2: None}


def test_an_outage_inside_a_maintenance_window_is_excluded_and_only_the_part_inside(cp, support_user):
    maintenance_window_create(by=support_user, team=cp.operator, reason="Cable swap", starts_at=at(9),
                              ends_at=at(15), charge_point=cp)
    record(status(cp, at(10), "Faulted", 1), status(cp, at(12), "Available", 1),
           status(cp, at(14), "Unavailable", 2), status(cp, at(16), "Available", 2))

    ledger = ledger_for(charge_point=cp, start=T0, end=T0 + DAY)

    assert [(o.seconds, o.excluded_seconds) for o in ledger.ports[1]] == [(7200, 7200)]
    assert [(o.seconds, o.excluded_seconds) for o in ledger.ports[2]] == [(7200, 3600)]
    assert ledger.ports[1][0].exclusions == ["Maintenance window: Cable swap"]


def test_a_weekly_maintenance_window_excludes_each_occurrence(cp, support_user):
    maintenance_window_create(by=support_user, team=cp.operator, reason="Weekly check", starts_at=at(-72),
                              weekdays="0", local_start=at(1).time(), duration_minutes=60, time_zone="UTC",
                              charge_point=cp)
    record(status(cp, at(0), "Faulted", 1), status(cp, at(3), "Available", 1))

    ledger = ledger_for(charge_point=cp, start=T0, end=T0 + DAY)

    assert [(o.seconds, o.excluded_seconds) for o in ledger.ports[1]] == [(3 * 3600, 3600)]


def test_an_exclusion_added_and_removed_is_audited_and_counts_only_while_it_exists(cp, support_user):
    record(status(cp, at(10), "Faulted", 1), status(cp, at(12), "Available", 1))

    exclusion = exclusion_add(by=support_user, charge_point=cp, connector=1, starts_at=at(9), ends_at=at(11),
                              reason="utility_outage", evidence_text="Grid operator's notice 4711")
    ledger = ledger_for(charge_point=cp, start=T0, end=T0 + DAY)
    assert [(o.seconds, o.excluded_seconds) for o in ledger.ports[1]] == [(7200, 3600)]
    assert ledger.ports[2] == []

    exclusion_remove(by=support_user, exclusion=exclusion)
    ledger = ledger_for(charge_point=cp, start=T0, end=T0 + DAY)
    assert [(o.seconds, o.excluded_seconds) for o in ledger.ports[1]] == [(7200, 0)]
    assert not Exclusion.objects.exists()
    audit = list(AuditLog.objects.filter(object_type="performance.exclusion").order_by("id")
                 .values_list("action", "actor_id"))
    assert audit == [("create", support_user.pk), ("delete", support_user.pk)]


def test_an_exclusion_needs_a_listed_reason_evidence_and_an_admin(cp, member_factory):
    from core.errors import Invalid, NotAllowed

    with pytest.raises(Invalid, match="reason"):
        exclusion_add(by=None, charge_point=cp, starts_at=at(9), ends_at=at(11), reason="bad luck",
                      evidence_text="x")
    with pytest.raises(Invalid, match="evidence"):
        exclusion_add(by=None, charge_point=cp, starts_at=at(9), ends_at=at(11), reason="vandalism")
    with pytest.raises(Invalid, match="end must be after"):
        exclusion_add(by=None, charge_point=cp, starts_at=at(11), ends_at=at(9), reason="vandalism",
                      evidence_text="x")
    with pytest.raises(Invalid, match="connector 7"):
        exclusion_add(by=None, charge_point=cp, connector=7, starts_at=at(9), ends_at=at(11), reason="vandalism",
                      evidence_text="x")
    viewer = member_factory(cp.owner, "viewer")
    with pytest.raises(NotAllowed):
        exclusion_add(by=viewer, charge_point=cp, starts_at=at(9), ends_at=at(11), reason="vandalism",
                      evidence_text="Photo of the cut cable")
    assert not Exclusion.objects.exists()


def test_a_charge_point_created_mid_period_counts_from_its_creation():
    cp = make_charge_point(created_at=at(12))
    record(status(cp, at(11), "Faulted", 1), status(cp, at(13), "Available", 1))

    ledger = ledger_for(charge_point=cp, start=T0, end=T0 + DAY)

    assert ledger.start == at(12)
    assert ledger.minutes == 12 * 60
    assert spans(ledger.ports[1]) == [(at(12), at(13))]


def test_disconnected_while_faulted_is_one_outage_and_a_disconnection_ends_at_the_next_heartbeat(cp):
    record(status(cp, at(10), "Faulted", 1, "GroundFailure"), disconnected(cp, at(11)), heartbeat(cp, at(12)),
           status(cp, at(14), "Available", 1),
           disconnected(cp, at(16)), heartbeat(cp, at(16.5)))

    ledger = ledger_for(charge_point=cp, start=T0, end=T0 + DAY)

    assert spans(ledger.ports[1]) == [(at(10), at(14)), (at(16), at(16.5))]
    assert [c.key for c in ledger.ports[1][0].causes()] == ["error:GroundFailure"]
    assert ledger.ports[1][1].cause.key == "disconnected"
    assert spans(ledger.ports[2]) == [(at(11), at(12)), (at(16), at(16.5))]
    assert spans(ledger.charge_point) == [(at(11), at(12)), (at(16), at(16.5))]


def test_a_disconnection_from_before_the_period_still_counts_until_it_ends(cp):
    record(disconnected(cp, at(-2)), heartbeat(cp, at(3)))

    ledger = ledger_for(charge_point=cp, start=T0, end=T0 + DAY)

    assert spans(ledger.ports[1]) == [(at(0), at(3))]
    assert ledger_for(charge_point=cp, start=T0 + DAY, end=T0 + 2 * DAY).ports[1] == []


def test_a_site_outage_excludes_only_once_a_person_marked_its_cause(cp, support_user):
    record(disconnected(cp, at(8)), heartbeat(cp, at(11)))
    report = ReportFactory(charge_point=None, site=cp.site, source=Source.SYSTEM, reason=Reason.SITE_OFFLINE,
                           created_at=at(8.5))
    assert ledger_for(charge_point=cp, start=T0, end=T0 + DAY).ports[1][0].excluded_seconds == 0

    site_outage_cause_mark(by=support_user, report=report, reason="utility_outage",
                           evidence_text="Grid outage in the whole district")

    ledger = ledger_for(charge_point=cp, start=T0, end=T0 + DAY)
    assert [(o.seconds, o.excluded_seconds) for o in ledger.ports[1]] == [(3 * 3600, 3 * 3600)]
    assert ledger.ports[1][0].exclusions == ["Site outage: Electric utility service outage"]


def test_the_reports_filed_during_an_outage_are_listed_with_it(cp):
    record(status(cp, at(10), "Faulted", 1), status(cp, at(12), "Available", 1))
    during = ReportFactory(charge_point=cp, created_at=at(10.5))
    ReportFactory(charge_point=cp, created_at=at(13))

    ledger = ledger_for(charge_point=cp, start=T0, end=T0 + DAY)
    ledger_attach_reports(ledger, charge_point=cp)

    assert ledger.ports[1][0].reports == [during]
