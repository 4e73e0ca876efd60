"""reporting/teams.py: a report carries its charge point's owner and operator
team (a site report its site's team), written when it is filed and moved
with the charge point or site, so the team-scoped lists and the API show a
moved charge point's reports to its new teams only."""

import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_key_create
from chargepoints.assets import charge_point_update, site_update
from reporting import services
from reporting.catalogue import Party, Reason, Source
from reporting.conversations import report_link_charge_point
from reporting.models import Report
from tests.factories import ChargePointFactory, SiteFactory, SupportUserFactory, TeamFactory

pytestmark = pytest.mark.django_db

OP_LIST = "/operator/reporting/report/"


def _teams(report) -> tuple[int | None, int | None]:
    return tuple(Report.objects.filter(pk=report.pk).values_list("owner_team_id", "operator_team_id").get())


def _listed(client, **params) -> set[int]:
    response = client.get(OP_LIST, params)
    assert response.status_code == 200
    return {int(i) for i in re.findall(r"/reporting/report/(\d+)/change/", response.content.decode())}


def _api_ids(team, support) -> set[int]:
    _key, raw = api_key_create(team=team, name="CSMS", role=Role.ADMIN, by=support)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/v1/reports/?state=open")
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_filing_writes_the_charge_points_teams():
    owner, operator = TeamFactory(), TeamFactory()
    cp = ChargePointFactory(site__team=owner, owner=owner, operator=operator)
    report = services.report_create(charge_point=cp, source=Source.USER, reason=Reason.BROKEN)
    assert _teams(report) == (owner.pk, operator.pk)


def test_the_sweeps_bulk_filing_writes_the_teams():
    owner, operator = TeamFactory(), TeamFactory()
    cp = ChargePointFactory(site__team=owner, owner=owner, operator=operator)
    created = services.report_file_system_bulk(
        reason=Reason.DISCONNECTED, now=timezone.now(),
        offenders=[{"pk": cp.pk, "owner_id": owner.pk, "operator_id": operator.pk, "description": "Gone."}],
    )
    assert _teams(Report(pk=created[cp.pk])) == (owner.pk, operator.pk)


def test_a_site_report_belongs_to_the_site_team_and_is_seen_by_operators_there(client, member_factory):
    owner, operator, stranger = TeamFactory(), TeamFactory(), TeamFactory()
    site = SiteFactory(team=owner)
    ChargePointFactory(site=site, owner=owner, operator=operator)
    created = services.report_file_site_reports(reason=Reason.SITE_OFFLINE, sites=[(site.pk, "All down.")],
                                                now=timezone.now())
    report = Report.objects.get(pk=created[site.pk])
    assert _teams(report) == (owner.pk, owner.pk)
    for team, sees in [(owner, True), (operator, True), (stranger, False)]:
        user = member_factory(team, Role.ADMIN)
        assert Report.objects.for_user(user).filter(pk=report.pk).exists() is sees
        client.force_login(user)
        assert (report.pk in _listed(client)) is sees


def test_linking_a_charge_point_to_a_conversation_gives_it_the_teams():
    support = SupportUserFactory()
    cp = ChargePointFactory()
    report = services.report_create(charge_point=None, source=Source.SUPPORT, reason=Reason.CONVERSATION,
                                    by=support)
    assert _teams(report) == (None, None)
    report_link_charge_point(report=report, charge_point=cp, by=support)
    assert _teams(report) == (cp.owner_id, cp.operator_id)


def test_a_moved_charge_points_reports_follow_it_into_the_lists_and_the_api(client, member_factory):
    support = SupportUserFactory()
    owner, old_operator, new_operator = TeamFactory(), TeamFactory(), TeamFactory()
    cp = ChargePointFactory(site__team=owner, owner=owner, operator=old_operator)
    open_report = services.report_create(charge_point=cp, source=Source.USER, reason=Reason.BROKEN)
    resolved = services.report_create(charge_point=cp, source=Source.USER, reason=Reason.OTHER)
    services.report_resolve(report=resolved, by=support, note="Fixed.")
    untouched = services.report_create(charge_point=ChargePointFactory(site__team=owner, owner=owner,
                                                                       operator=old_operator),
                                       source=Source.USER, reason=Reason.BROKEN)
    old_admin, new_admin = member_factory(old_operator, Role.ADMIN), member_factory(new_operator, Role.ADMIN)

    charge_point_update(charge_point=cp, operator=new_operator, by=support)

    assert _teams(open_report) == _teams(resolved) == (owner.pk, new_operator.pk)
    assert _teams(untouched) == (owner.pk, old_operator.pk)
    client.force_login(new_admin)
    assert _listed(client) == {open_report.pk}
    assert _listed(client, state="all") == {open_report.pk, resolved.pk}
    assert _listed(client, view="team") == {open_report.pk}  # routed to the operator: now them
    client.force_login(old_admin)
    assert _listed(client, state="all") == {untouched.pk}
    assert _api_ids(new_operator, support) == {open_report.pk}
    assert _api_ids(old_operator, support) == {untouched.pk}
    assert set(Report.objects.for_user(old_admin).values_list("pk", flat=True)) == {untouched.pk}

    # A new owner too (support moves it with a site of the new owner's).
    new_owner = TeamFactory()
    charge_point_update(charge_point=cp, owner=new_owner, site=SiteFactory(team=new_owner), by=support)
    assert _teams(open_report) == (new_owner.pk, new_operator.pk)
    client.force_login(member_factory(new_owner, Role.ADMIN))
    assert _listed(client, state="all") == {open_report.pk, resolved.pk}
    assert _listed(client, view="team") == set()  # routed to the operator, not to the owner


def test_a_refused_move_leaves_the_reports_where_they_were(member_factory):
    owner, operator = TeamFactory(), TeamFactory()
    cp = ChargePointFactory(site__team=owner, owner=owner, operator=operator)
    report = services.report_create(charge_point=cp, source=Source.USER, reason=Reason.BROKEN)
    with pytest.raises(Exception, match="support"):
        charge_point_update(charge_point=cp, operator=TeamFactory(), by=member_factory(owner, Role.ADMIN))
    assert _teams(report) == (owner.pk, operator.pk)


def test_a_site_given_to_another_team_takes_its_site_reports(client, member_factory):
    support = SupportUserFactory()
    old_team, new_team = TeamFactory(), TeamFactory()
    site = SiteFactory(team=old_team)
    created = services.report_file_site_reports(reason=Reason.SITE_OFFLINE, sites=[(site.pk, "All down.")],
                                                now=timezone.now())
    report = Report.objects.get(pk=created[site.pk])
    site_update(site=site, team=new_team, by=support)
    assert _teams(report) == (new_team.pk, new_team.pk)
    client.force_login(member_factory(new_team, Role.ADMIN))
    assert _listed(client) == {report.pk}
    assert report.assigned_party == Party.OPERATOR and _listed(client, view="team") == {report.pk}
    client.force_login(member_factory(old_team, Role.ADMIN))
    assert _listed(client) == set()


def test_filing_with_an_instance_loaded_before_a_move_writes_the_new_teams():
    """A form or task may hold the charge point from before support moved
    it: the report takes the teams from the row, not from that instance,
    and routes by them."""
    owner, operator, new_operator = TeamFactory(), TeamFactory(), TeamFactory()
    cp = ChargePointFactory(site__team=owner, owner=owner, operator=operator)
    stale = type(cp).objects.get(pk=cp.pk)
    charge_point_update(charge_point=cp, by=SupportUserFactory(), operator=new_operator)

    report = services.report_create(charge_point=stale, source=Source.SYSTEM, reason=Reason.DISCONNECTED)

    assert _teams(report) == (owner.pk, new_operator.pk)
    assert stale.operator == new_operator
    assert report.assigned_party == Party.OPERATOR


def test_system_reports_with_other_or_no_teams_than_their_charge_point_are_found_and_repaired():
    from datetime import timedelta

    from reporting.teams import reports_teams_repair, reports_with_stale_teams
    from tests.factories import ReportFactory

    cp = ChargePointFactory()
    right = ReportFactory(charge_point=cp, source=Source.SYSTEM, reason=Reason.DISCONNECTED)
    other = ReportFactory(charge_point=cp, source=Source.SYSTEM, reason=Reason.IN_ERROR)
    empty = ReportFactory(charge_point=cp, source=Source.SYSTEM, reason=Reason.FAILED_CHARGES)
    Report.objects.filter(pk=other.pk).update(operator_team=TeamFactory())
    Report.objects.filter(pk=empty.pk).update(owner_team=None)

    stale = reports_with_stale_teams(filed_since=timezone.now() - timedelta(hours=1))

    assert stale == [(other.pk, cp.pk), (empty.pk, cp.pk)]
    assert reports_teams_repair([cp.pk]) == 2
    assert {_teams(report) for report in (right, other, empty)} == {(cp.owner_id, cp.operator_id)}
