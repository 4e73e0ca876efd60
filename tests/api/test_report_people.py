"""Who a report may be assigned to through the API, and how the people a
report names are shown: by name only, never by e-mail, to anyone but
support."""

import pytest

from accounts.models import Role
from reporting import services
from reporting.catalogue import Party
from reporting.models import ReportState
from tests.factories import ChargePointFactory, ReportFactory, SupportUserFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(world, make_key, client_for):
    """A charge point our team operates for another owner team."""
    owner = TeamFactory(country="DK")
    cp = ChargePointFactory(site__team=owner, owner=owner, operator=world.ours)
    world.owner = owner
    world.shared_cp = cp
    return world


def assign(client, report, **body):
    return client.post(f"/api/v1/reports/{report.pk}/assign/", body, format="json")


@pytest.mark.parametrize("party", ["owner", "operator"])
def test_support_staff_cannot_be_named_for_a_team(world, party):
    report = ReportFactory(charge_point=world.cp)
    staff = SupportUserFactory()

    response = assign(world.client, report, party=party, person=staff.pk)

    assert response.status_code == 400
    body = response.json()
    assert list(body["fields"]) == ["person"] and "name a member of the" in body["detail"]
    assert staff.email not in response.content.decode()
    report.refresh_from_db()
    assert (report.state, report.assigned_to) == (ReportState.OPEN, None)


def test_a_stranger_and_an_unknown_id_are_refused_alike(world, member_factory):
    report = ReportFactory(charge_point=world.cp)
    stranger = member_factory(TeamFactory(), Role.ADMIN)

    known = assign(world.client, report, party="operator", person=stranger.pk)
    unknown = assign(world.client, report, party="operator", person=stranger.pk + 1000)

    assert known.status_code == unknown.status_code == 400
    assert known.json() == unknown.json()
    assert stranger.email not in known.content.decode()


def test_another_teams_person_is_a_name_without_an_address(shared, member_factory):
    nameless = UserFactory(first_name="", last_name="")
    from tests.factories import MembershipFactory

    MembershipFactory(user=nameless, team=shared.owner, role=Role.INSTALLER)
    report = ReportFactory(charge_point=shared.shared_cp)

    response = assign(shared.client, report, party="owner", person=nameless.pk)

    assert response.status_code == 200, response.json()
    assert response.json()["assigned_to"] == {"id": nameless.pk, "name": f"User #{nameless.pk}", "email": None}
    listed = shared.client.get("/api/v1/reports/").json()["results"]
    assert [r["assigned_to"] for r in listed if r["id"] == report.pk] == [response.json()["assigned_to"]]
    timeline = shared.client.get(f"/api/v1/reports/{report.pk}/timeline/").json()["results"]
    assert timeline[-1]["to_person"]["email"] is None
    assert nameless.email not in shared.client.get(f"/api/v1/reports/{report.pk}/timeline/").content.decode()


def test_support_staff_who_acted_are_not_shown_by_address(world, support_user):
    support_user.first_name = support_user.last_name = ""
    support_user.save()
    report = ReportFactory(charge_point=world.cp)
    services.report_assign(report=report, party=Party.SUPPORT, person=support_user, by=support_user)
    services.report_comment(report=report, body="Looking at it.", by=support_user)

    timeline = world.client.get(f"/api/v1/reports/{report.pk}/timeline/")
    read = world.client.get(f"/api/v1/reports/{report.pk}/")

    assert support_user.email not in timeline.content.decode() + read.content.decode()
    assert read.json()["assigned_to"]["name"] == f"User #{support_user.pk}"


def test_support_reads_the_address(world, client_for, make_key):
    from rest_framework.test import APIClient

    person = UserFactory()
    from tests.factories import MembershipFactory

    MembershipFactory(user=person, team=world.ours, role=Role.INSTALLER)
    report = ReportFactory(charge_point=world.cp)
    services.report_assign(report=report, party=Party.OPERATOR, person=person, by=None)
    client = APIClient()
    client.force_authenticate(SupportUserFactory())

    body = client.get(f"/api/v1/reports/{report.pk}/").json()

    assert body["assigned_to"]["email"] == person.email
