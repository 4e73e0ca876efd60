"""The reports list's views: unresolved by default, the quick views, the
assignee filter, the search on the driver's name and e-mail, and the
pages read by team ranges."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from reporting import services
from reporting.admin.reports import ReportAdmin
from reporting.catalogue import Party, Reason, Source
from reporting.models import ReportQuerySet, ReportReporter
from tests.factories import ChargePointFactory, ReportFactory, TeamFactory, UserFactory
from tests.reporting.ranges_world import UNION_RUNS, World

pytestmark = pytest.mark.django_db

LIST = "/admin/reporting/report/"
OP_LIST = "/operator/reporting/report/"


def _ids(response) -> set[int]:
    assert response.status_code == 200
    # The rows' links (a viewer has no row checkboxes).
    return {int(i) for i in re.findall(r'/reporting/report/(\d+)/change/', response.content.decode())}


def _report(**kwargs):
    return services.report_create(charge_point=kwargs.pop("charge_point", None) or ChargePointFactory(),
                                  source=Source.USER, reason=kwargs.pop("reason", Reason.NOT_WORKING),
                                  description=kwargs.pop("description", "Screen is black"), **kwargs)


def test_the_list_opens_on_unresolved_reports_and_all_shows_every_state(client, support_user):
    open_one = _report()
    done = _report()
    services.report_resolve(report=done, by=support_user, note="fixed")
    client.force_login(support_user)

    response = client.get(LIST)

    assert _ids(response) == {open_one.pk}
    html = response.content.decode()
    assert re.search(r'<a href="\?" data-view="unresolved" class="active"', html)
    assert _ids(client.get(LIST, {"state": "all"})) == {open_one.pk, done.pk}
    assert _ids(client.get(LIST, {"state": "resolved"})) == {done.pk}
    assert re.search(r'data-view="all" class="active"', client.get(LIST, {"state": "all"}).content.decode())


def test_quick_views_for_support(client, support_user):
    other_agent = UserFactory(is_staff=True, is_superuser=True)
    mine = _report()
    services.report_assign(report=mine, party=Party.SUPPORT, person=support_user, by=support_user)
    theirs = _report()
    services.report_assign(report=theirs, party=Party.SUPPORT, person=other_agent, by=support_user)
    support_queue = _report()
    services.report_assign(report=support_queue, party=Party.SUPPORT, by=support_user)
    operators = _report()  # routed to the owner or operator, no one named
    client.force_login(support_user)

    assert _ids(client.get(LIST, {"view": "mine"})) == {mine.pk}
    assert _ids(client.get(LIST, {"view": "team"})) == {mine.pk, theirs.pk, support_queue.pk}
    assert _ids(client.get(LIST, {"view": "unassigned"})) == {support_queue.pk, operators.pk}
    html = client.get(LIST, {"view": "mine"}).content.decode()
    assert re.search(r'<a href="\?view=mine" data-view="mine" class="active" aria-current="page">Assigned to me</a>',
                     html)
    # The quick view is not repeated in the filter panel.
    assert "By view" not in html


def test_quick_views_for_a_team_member(client, member_factory, support_user):
    team = TeamFactory()
    operated = ChargePointFactory(operator=team)  # owned by another team
    owned = ChargePointFactory(owner=team, operator=TeamFactory())
    user = member_factory(team, Role.ADMIN)
    colleague = member_factory(team, Role.INSTALLER)
    to_us = ReportFactory(charge_point=operated, assigned_party=Party.OPERATOR)
    to_us_as_owner = ReportFactory(charge_point=owned, assigned_party=Party.OWNER)
    to_their_operator = ReportFactory(charge_point=owned, assigned_party=Party.OPERATOR)
    to_support = ReportFactory(charge_point=operated, assigned_party=Party.SUPPORT)
    named = ReportFactory(charge_point=operated, assigned_party=Party.OPERATOR, assigned_to=user, state="assigned")
    to_colleague = ReportFactory(charge_point=operated, assigned_party=Party.OPERATOR, assigned_to=colleague,
                                 state="assigned")
    client.force_login(user)

    assert _ids(client.get(OP_LIST, {"view": "mine"})) == {named.pk}
    assert _ids(client.get(OP_LIST, {"view": "team"})) == {to_us.pk, to_us_as_owner.pk, named.pk, to_colleague.pk}
    assert _ids(client.get(OP_LIST, {"view": "unassigned"})) == {
        to_us.pk, to_us_as_owner.pk, to_their_operator.pk, to_support.pk}
    assert _ids(client.get(OP_LIST, {"view": "nonsense"})) == set()


def test_assignee_filter_offers_the_people_the_user_may_see_by_name(client, member_factory):
    team = TeamFactory()
    cp = ChargePointFactory(operator=team)
    user = member_factory(team, Role.ADMIN)
    colleague = UserFactory(first_name="Carla", last_name="Colleague")
    from tests.factories import MembershipFactory

    MembershipFactory(user=colleague, team=team, role=Role.INSTALLER)
    stranger = member_factory(TeamFactory(), Role.ADMIN)
    report = ReportFactory(charge_point=cp, assigned_party=Party.OPERATOR, assigned_to=colleague, state="assigned")
    ReportFactory(charge_point=cp)
    client.force_login(user)

    html = client.get(OP_LIST).content.decode()
    panel = html.split('id="changelist-filter"')[1]
    assert "By assignee" in panel
    assert f'?assignee={colleague.pk}' in panel and "Carla Colleague" in panel
    assert colleague.email not in html  # by name only outside /admin/
    assert f"?assignee={stranger.pk}" not in panel
    assert _ids(client.get(OP_LIST, {"assignee": colleague.pk})) == {report.pk}
    # Someone the user may not see finds nothing, whatever they are assigned.
    assert _ids(client.get(OP_LIST, {"assignee": stranger.pk})) == set()
    assert _ids(client.get(OP_LIST, {"assignee": "x"})) == set()


def test_search_finds_the_drivers_name_and_email(client, support_user):
    on_report = _report(reporter_name="Ann Driver", reporter_email="ann@example.com")
    filed_again = _report()
    ReportReporter.objects.create(report=filed_again, name="Bo Again", email="bo.again@example.net",
                                  status_key="k1")
    _report()
    client.force_login(support_user)

    assert _ids(client.get(LIST, {"q": "ann driver"})) == {on_report.pk}
    assert _ids(client.get(LIST, {"q": "ann@example"})) == {on_report.pk}
    assert _ids(client.get(LIST, {"q": "bo again"})) == {filed_again.pk}
    assert _ids(client.get(LIST, {"q": "example.net"})) == {filed_again.pk}


def test_search_on_a_driver_finds_only_reports_whose_contact_the_user_may_see(client, member_factory,
                                                                              support_user):
    team = TeamFactory()
    cp = ChargePointFactory(operator=team)
    report = _report(charge_point=cp, reporter_name="Ann Driver", reporter_email="ann@example.com")
    closed = _report(charge_point=cp, reporter_name="Ann Driver", reporter_email="ann@example.com")
    services.report_resolve(report=closed, by=support_user, note="fixed")

    client.force_login(member_factory(team, Role.INSTALLER))
    assert _ids(client.get(OP_LIST, {"q": "ann@example.com", "state": "all"})) == {report.pk}
    client.force_login(member_factory(team, Role.VIEWER))
    assert _ids(client.get(OP_LIST, {"q": "ann@example.com", "state": "all"})) == set()
    client.force_login(support_user)
    assert _ids(client.get(LIST, {"q": "ann@example.com", "state": "all"})) == {report.pk, closed.pk}


# --- pages read by team ranges (ReportQuerySet.by_ranges) --------------------------


@pytest.mark.parametrize("site, params", [
    ("operator", {}),
    ("operator", {"state": "all"}),
    ("operator", {"view": "unassigned"}),
    ("operator", {"view": "team"}),  # one range of its own index: the plain query
    ("operator", {"state": "all", "team": "x", "created_at__from": "2000-01-01", "created_at__to": "2100-01-01"}),
    ("operator", {"state": "all", "reason__exact": "broken"}),
    ("operator", {"state": "all", "o": "-6"}),  # by age, oldest first
    ("operator", {"state": "all", "o": "3"}),  # by reason: the plain query
    ("support", {"state": "all", "team": "a"}),
])
def test_admin_pages_and_counts_are_those_of_the_or_query(client, member_factory, support_user, monkeypatch,
                                                         site, params):
    world = World(member_factory)
    if "team" in params:
        params = {**params, "team": str(getattr(world, params["team"]).pk)}
    monkeypatch.setattr(ReportAdmin, "list_per_page", 3)
    client.force_login(world.user if site == "operator" else support_user)
    url = OP_LIST if site == "operator" else LIST

    def pages():
        seen, unions, number = [], False, 1
        while True:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, {**params, "p": number})
            if response.status_code != 200:  # past the last page: back to the first with ?e=1
                break
            html = response.content.decode()
            ids = list(dict.fromkeys(int(i) for i in re.findall(r"/reporting/report/(\d+)/change/", html)))
            if not ids:
                break
            count = re.search(r"(\d+) reports?\b", html).group(1)
            seen.append(ids)
            unions = unions or any("UNION ALL" in q["sql"] for q in queries.captured_queries)
            number += 1
        return seen, count, unions

    ranged, ranged_count, unions = pages()
    monkeypatch.setattr(ReportQuerySet, "by_ranges", lambda self: self)
    plain, plain_count, plain_unions = pages()
    assert len(plain) > 1 and ranged == plain and ranged_count == plain_count
    assert not plain_unions
    assert unions == (UNION_RUNS and params.get("o") != "3" and params.get("view") != "team")
