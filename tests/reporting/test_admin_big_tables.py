"""The report list on PostgreSQL: estimated counts and the bounded search."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from reporting.admin.reports import ReportAdmin
from reporting.catalogue import Party, Reason, Source
from reporting.models import Report
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/reporting/report/"


def _bulk_reports(charge_point, n, description="Bench"):
    Report.objects.bulk_create(
        Report(charge_point=charge_point, source=Source.USER, reason=Reason.OTHER, description=f"{description} {i}",
               assigned_party=Party.OPERATOR, owner_team_id=charge_point.owner_id,
               operator_team_id=charge_point.operator_id)
        for i in range(n)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reporting_report")


def _ids(html):
    return [int(i) for i in re.findall(r'name="_selected_action" value="(\d+)"', html)]


def test_a_large_list_shows_an_estimated_count_without_counting(require_postgres, client, support_user,
                                                                   monkeypatch):
    from core.admin.pagination import EstimatedCountPaginator

    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 100)
    _bulk_reports(ChargePointFactory(), 300)
    client.force_login(support_user)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(LIST).content.decode()
    assert re.search(r"about \d+ reports", html)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "EXPLAIN" in sql and "COUNT(" not in sql
    # A page past the estimate's end is empty, not an error page.
    assert client.get(LIST + "?p=50").status_code in (200, 302)


def test_a_small_filtered_list_counts_exactly(require_postgres, client, support_user):
    _bulk_reports(ChargePointFactory(), 30)
    client.force_login(support_user)
    html = client.get(LIST + "?reason__exact=other").content.decode()
    assert "30 reports" in html and "about" not in html.split('class="paginator"')[1][:200]


def test_search_shows_the_newest_matches_of_each_part(require_postgres, client, support_user, monkeypatch):
    monkeypatch.setattr(ReportAdmin, "search_limit", 5)
    cp = ChargePointFactory(name="Quayside 9")
    _bulk_reports(cp, 8, description="Cable")
    client.force_login(support_user)
    newest = list(Report.objects.order_by("-created_at", "-id").values_list("pk", flat=True)[:5])
    found = _ids(client.get(LIST, {"q": "cable"}).content.decode())
    assert sorted(found) == sorted(newest)
    found = _ids(client.get(LIST, {"q": "quayside"}).content.decode())
    assert sorted(found) == sorted(newest)
    assert _ids(client.get(LIST, {"q": "nothing-like-this"}).content.decode()) == []


@pytest.mark.parametrize("term", ["cable", "quayside"])
def test_search_caps_the_matches_the_user_may_see_not_every_teams(require_postgres, client, member_factory,
                                                                   monkeypatch, term):
    """An operator's own matching report is found although other teams have
    more newer matches than the cap."""
    monkeypatch.setattr(ReportAdmin, "search_limit", 5)
    ours = ChargePointFactory(name="Quayside 1")
    _bulk_reports(ours, 1, description="Cable")
    mine = Report.objects.get()
    _bulk_reports(ChargePointFactory(name="Quayside 2"), 8, description="Cable")
    assert Report.objects.filter(created_at__gt=mine.created_at).count() == 8
    client.force_login(member_factory(ours.operator, Role.ADMIN))  # an admin has the row checkboxes

    response = client.get("/operator/reporting/report/", {"q": term})
    found = _ids(response.content.decode())

    assert found == [mine.pk]


def test_search_on_a_driver_caps_the_reports_whose_contact_the_user_may_see(require_postgres, client,
                                                                             member_factory, monkeypatch):
    """The driver parts of the search are capped after need to know: other
    teams' newer filings by the same driver do not push the user's out."""
    monkeypatch.setattr(ReportAdmin, "search_limit", 5)
    ours = ChargePointFactory()
    _bulk_reports(ours, 1)
    mine = Report.objects.get()
    Report.objects.filter(pk=mine.pk).update(reporter_email="ann@example.com")
    _bulk_reports(ChargePointFactory(), 8)
    Report.objects.exclude(pk=mine.pk).update(reporter_email="ann@example.com")
    client.force_login(member_factory(ours.operator, Role.INSTALLER))

    response = client.get("/operator/reporting/report/", {"q": "ann@example"})

    assert set(re.findall(r"/reporting/report/(\d+)/change/", response.content.decode())) == {str(mine.pk)}


def test_my_teams_view_is_one_range_of_the_waiting_team_index(require_postgres, member_factory):
    """"My team's" filters on the team a report waits on, the expression
    ``report_unres_waiting_idx`` holds (an OR of the two parties made
    PostgreSQL sort every unresolved report of the team at 10M)."""
    from reporting.admin.filters import my_team_q

    cp = ChargePointFactory()
    _bulk_reports(cp, 3)
    user = member_factory(cp.operator, Role.ADMIN)
    page = (Report.objects.for_user(user).unresolved().filter(my_team_q(user, support=False))
            .order_by("-created_at", "-id")[:50])
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "report_unres_waiting_idx" in plan, plan
    assert len(page) == 3


def test_an_operators_list_is_estimated_range_by_range(require_postgres, client, member_factory, monkeypatch):
    """The estimate is the sum of the team ranges' (ReportQuerySet.disjoint_parts):
    the OR of the two team columns, under a filter on one of them as well,
    made PostgreSQL estimate a few dozen rows of a team's 100,000 at 10M."""
    from core.admin.pagination import EstimatedCountPaginator

    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 100)
    cp = ChargePointFactory()
    _bulk_reports(cp, 300)
    client.force_login(member_factory(cp.owner, Role.ADMIN))
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/operator/reporting/report/", {"team": cp.owner_id}).content.decode()
    estimates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("EXPLAIN")]
    assert len(estimates) == 2  # the owner range and the operator range
    about = int(re.search(r"about (\d+) reports", html).group(1))
    assert 200 <= about <= 450


def test_a_teams_operator_range_reads_the_charge_points_operated_for_others(require_postgres, member_factory):
    """The operator range reads the partial index of charge points operated
    for another team (reporting/0029), not every report of the team's own
    charge points (50,000 rows read for none at 10M)."""
    cp = ChargePointFactory()
    _bulk_reports(cp, 3)
    user = member_factory(cp.owner, Role.ADMIN)
    for queryset, index in [(Report.objects.for_user(user).unresolved(), "report_unres_op_for_others_idx"),
                            (Report.objects.for_user(user), "report_op_for_others_idx")]:
        with CaptureQueriesContext(connection) as queries:
            assert len(queryset.order_by("-created_at", "-id").by_ranges()[:50]) == 3
        (sql,) = [q["sql"] for q in queries.captured_queries if "UNION ALL" in q["sql"]]
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert index in plan, plan
