"""Time to first response and to resolution, and the share solved remotely
(performance/response_times.py), from hand-made timelines."""

from datetime import timedelta

import pytest

from core.errors import Invalid
from performance.models import SiteVisit
from performance.response_times import percentile, response_times, site_visit_record
from reporting.models import EventKind, Report, ReportEvent, ReportState
from tests.factories import ReportFactory

from .conftest import at

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


def event(report, kind, hours, label="Ann Admin"):
    return ReportEvent.objects.create(report=report, kind=kind, actor_label=label,
                                      created_at=report.created_at + hours * H)


def resolved(report, hours):
    Report.objects.filter(pk=report.pk).update(state=ReportState.RESOLVED, resolved_at=report.created_at + hours * H)
    event(report, EventKind.RESOLVED, hours)


@pytest.fixture
def three_reports(cp, support_user):
    remote = ReportFactory(charge_point=cp, created_at=at(8))
    event(remote, EventKind.CREATED, 0, label="System")
    event(remote, EventKind.COMMENT, 1)
    event(remote, EventKind.REMOTE_COMMAND, 2)
    resolved(remote, 5)

    visited = ReportFactory(charge_point=cp, created_at=at(9))
    event(visited, EventKind.RECURRED, 1 / 6, label="System")  # not a response
    event(visited, EventKind.ASSIGNED, 3)
    event(visited, EventKind.REMOTE_COMMAND, 4, label="System")  # self-healing
    resolved(visited, 9)
    site_visit_record(by=support_user, report=visited, visited_at=visited.created_at + 6 * H, note="New fuse")

    ReportFactory(charge_point=cp, created_at=at(10))  # nobody answered yet
    return remote, visited


def test_medians_p90_and_the_share_resolved_remotely(cp, three_reports):
    [row] = response_times(reports=Report.objects.all(), by="site", created_from=at(0), created_before=at(24))

    assert (row.key, row.label, row.reports, row.resolved) == (cp.site_id, cp.site.name, 3, 2)
    assert (row.first_response_median, row.first_response_p90) == (2 * H, 3 * H)
    assert (row.resolution_median, row.resolution_p90) == (7 * H, 9 * H)
    assert row.remote_share == 50


def test_a_site_visit_is_on_the_timeline(three_reports, support_user):
    _remote, visited = three_reports
    assert SiteVisit.objects.filter(report=visited).count() == 1
    assert visited.events.filter(kind=EventKind.COMMENT, note__startswith="Site visit on").exists()


def test_grouped_by_reason_and_team(cp, three_reports):
    by_team = response_times(reports=Report.objects.all(), by="team", created_from=at(0), created_before=at(24))
    assert [(row.key, row.reports) for row in by_team] == [(cp.operator_id, 3)]
    by_reason = response_times(reports=Report.objects.all(), by="reason", created_from=at(0), created_before=at(24))
    assert [(row.label, row.reports) for row in by_reason] == [("Charge point is not working", 3)]
    with pytest.raises(Invalid):
        response_times(reports=Report.objects.all(), by="colour", created_from=at(0), created_before=at(24))


def test_the_nearest_rank_percentile():
    assert percentile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([3], 0.9) == 3
    assert percentile([], 0.9) is None


def test_by_team_a_moved_charge_points_reports_follow_it_and_a_site_report_counts_for_its_sites_team(cp):
    from chargepoints.assets import charge_point_update
    from reporting.catalogue import Reason, Source
    from tests.factories import SupportUserFactory, TeamFactory

    new_operator = TeamFactory(name="New Operator AB")
    ReportFactory(charge_point=cp, created_at=at(8))
    ReportFactory(charge_point=None, site=cp.site, source=Source.SYSTEM, reason=Reason.SITE_OFFLINE,
                  created_at=at(9))
    charge_point_update(charge_point=cp, operator=new_operator, by=SupportUserFactory())

    by_team = response_times(reports=Report.objects.all(), by="team", created_from=at(0), created_before=at(24))

    assert sorted((row.key, row.label, row.reports) for row in by_team) == sorted(
        [(new_operator.pk, "New Operator AB", 1), (cp.site.team_id, cp.site.team.name, 1)])
