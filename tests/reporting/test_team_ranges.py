"""ReportQuerySet.by_ranges: a team's page read as a UNION ALL of its index
ranges gives exactly the rows, order, pages and counts of the plain OR
query. On SQLite the plain query runs (and the comparisons still hold); on
PostgreSQL each test also checks that the UNION ran."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from reporting import team_ranges
from reporting.catalogue import Reason
from reporting.models import Report
from reporting.querysets import report_scope, scope_q
from reporting.team_ranges import scope_ranges
from tests.reporting.ranges_world import NOW, UNION_RUNS, World

pytestmark = pytest.mark.django_db

@pytest.fixture
def world(member_factory):
    return World(member_factory)


def _ids(reports):
    return [report.pk for report in reports]


def _plain(queryset):
    """The same queryset without the ranges: the plain OR query."""
    clone = queryset.all()
    clone._by_ranges = False
    return clone


def _page(queryset, start, stop):
    with CaptureQueriesContext(connection) as queries:
        rows = _ids(queryset[start:stop])
    unions = [q["sql"] for q in queries.captured_queries if "UNION ALL" in q["sql"]]
    return rows, unions


def test_the_ranges_are_disjoint_and_make_up_the_scope(world):
    scope = report_scope(world.user)
    assert scope[1], "the world has a site report seen through an operated charge point"
    visible = set(Report.objects.filter(scope_q(scope)).values_list("pk", flat=True))
    seen = []
    for part in scope_ranges(*scope):
        seen += list(Report.objects.filter(part.condition).values_list("pk", flat=True))
    assert len(seen) == len(set(seen))  # no report in two ranges
    assert set(seen) == visible
    # Reports of both columns' team and a report with no team columns are in it or not, as before.
    both = Report.objects.filter(owner_team=world.a, operator_team=world.a)
    assert both.exists() and set(both.values_list("pk", flat=True)) <= visible
    assert not Report.objects.filter(owner_team__isnull=True, pk__in=visible).exists()


@pytest.mark.parametrize("ordering", [("-created_at", "-id"), ("created_at", "id"), ("-created_at", "-pk")])
@pytest.mark.parametrize("filters", [{}, {"state__in": ["open", "assigned"]}, {"reason": Reason.BROKEN},
                                     {"created_at__gte": NOW - datetime.timedelta(minutes=10)}])
def test_every_slice_has_the_rows_and_order_of_the_or_query(world, ordering, filters):
    queryset = Report.objects.for_user(world.user).filter(**filters).with_context().order_by(*ordering)
    everything = _ids(_plain(queryset))
    assert everything
    for start, stop in [(0, 1), (0, 5), (3, 9), (0, 100), (len(everything) - 2, len(everything) + 5)]:
        rows, unions = _page(queryset.by_ranges(), start, stop)
        assert rows == everything[start:stop] == _ids(_plain(queryset)[start:stop])
        assert bool(unions) == UNION_RUNS
    assert queryset.by_ranges().count() == len(everything)


def test_a_slice_past_the_end_is_empty(world):
    queryset = Report.objects.for_user(world.user).by_ranges()
    assert _ids(queryset[500:510]) == []


def test_a_multi_team_actor_reads_the_same_rows_per_team_or_per_column(world, monkeypatch):
    from accounts.models import Membership

    Membership.objects.create(user=world.user, team=world.b, role=Role.VIEWER)
    expected = _ids(_plain(Report.objects.for_user(world.user)))
    assert Report.objects.filter(owner_team=world.b).exists()
    assert _ids(Report.objects.for_user(world.user).by_ranges()[:100]) == expected
    # Past MAX_TEAM_RANGES the ranges are one per column (IN lists).
    monkeypatch.setattr(team_ranges, "MAX_TEAM_RANGES", 1)
    assert len(scope_ranges(*report_scope(world.user))) == 3
    rows, unions = _page(Report.objects.for_user(world.user).by_ranges(), 0, 100)
    assert rows == expected and bool(unions) == UNION_RUNS


def test_one_teams_filter_reads_its_two_ranges(world):
    queryset = Report.objects.all().any_team(world.x.pk)
    expected = _ids(Report.objects.filter(owner_team=world.x) | Report.objects.filter(operator_team=world.x))
    rows, unions = _page(queryset.by_ranges(), 0, 100)
    assert rows == expected and bool(unions) == UNION_RUNS
    assert queryset.by_ranges().count() == len(expected)
    # Within an operator's scope: only what they may see of X.
    scoped = Report.objects.for_user(world.user).any_team(world.x.pk).by_ranges()
    assert _ids(scoped[:100]) == _ids(_plain(scoped))
    assert set(_ids(scoped[:100])) < set(expected)


def test_an_ordering_without_an_index_range_runs_the_plain_query(world):
    queryset = Report.objects.for_user(world.user).order_by("reason", "-id").by_ranges()
    rows, unions = _page(queryset, 0, 7)
    assert rows == _ids(_plain(queryset)[:7]) and unions == []


def test_an_or_with_another_queryset_forgets_the_ranges(world):
    theirs = Report.objects.filter(owner_team=world.y)
    combined = (Report.objects.for_user(world.user).by_ranges() | theirs).order_by("-created_at", "-id")
    rows, unions = _page(combined, 0, 100)
    assert unions == []
    assert set(rows) & set(theirs.values_list("pk", flat=True))


def test_support_reads_the_plain_query(world, support_user):
    queryset = Report.objects.for_user(support_user).by_ranges()
    rows, unions = _page(queryset, 0, 100)
    assert unions == [] and len(rows) == Report.objects.count()


def test_a_prefetch_runs_once_on_the_page(world):
    queryset = Report.objects.for_user(world.user).prefetch_related("events").by_ranges()
    with CaptureQueriesContext(connection) as queries:
        page = list(queryset[:5])
    assert len(page) == 5 and all(report.events.all() is not None for report in page)
    assert sum("reporting_reportevent" in q["sql"] for q in queries.captured_queries) == 1


def _union_sql(queryset):
    with CaptureQueriesContext(connection) as queries:
        list(queryset[:10])
    return [q["sql"] for q in queries.captured_queries if "UNION ALL" in q["sql"]]


def test_a_range_drops_the_or_conditions_it_implies(require_postgres, world):
    """Each range is filtered on its own team column, not also on the OR
    of the scope or the team filter it is part of (PostgreSQL would
    multiply the same condition into its estimate)."""
    scoped = Report.objects.for_user(world.user).by_ranges()
    (sql,) = _union_sql(scoped)
    assert " OR " not in sql
    # The operator's own team: both the filter's and the scope's OR go.
    (sql,) = _union_sql(scoped.any_team(world.a.pk))
    assert " OR " not in sql
    # Another team (X operates a charge point of A's): the scope stays in
    # each range, so only what A may see of X's is read.
    (sql,) = _union_sql(scoped.any_team(world.x.pk))
    assert sql.count(" OR ") >= 2
