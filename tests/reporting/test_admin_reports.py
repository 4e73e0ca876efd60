"""The reports back-office: list, page, actions, settings, dashboard."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditLog, Role
from reporting import services
from reporting.catalogue import Party, Reason, Source
from reporting.models import EventKind, Report, ReportContact, ReportSettings, ReportState
from tests.factories import (
    ChargePointFactory,
    ReportContactFactory,
    ReportFactory,
    SiteFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/admin/reporting/report/"
OP_LIST = "/operator/reporting/report/"


@pytest.fixture
def support_client(client, support_user):
    client.force_login(support_user)
    return client


def _report(**kwargs):
    charge_point = kwargs.pop("charge_point", None) or ChargePointFactory()
    return services.report_create(charge_point=charge_point, source=kwargs.pop("source", Source.USER),
                                  reason=kwargs.pop("reason", Reason.NOT_WORKING),
                                  description=kwargs.pop("description", "Screen is black"), **kwargs)


def test_list_shows_each_column_for_a_report(support_client):
    report = _report(description="Cable torn off")
    cp = report.charge_point
    page = support_client.get(LIST).content.decode()
    for text in [f">{report.pk}<", cp.name, cp.ocpp_id, cp.site.name, cp.owner.name, "User", "Charge point is not working",
                 "Open", "Team owner"]:
        assert text in page


def test_list_query_count_does_not_grow_with_rows(support_client, support_user):
    _report()
    with CaptureQueriesContext(connection) as one:
        assert support_client.get(LIST).status_code == 200
    for _ in range(12):
        r = _report()
        services.report_assign(report=r, party=Party.SUPPORT, person=support_user, by=support_user)
    with CaptureQueriesContext(connection) as many:
        page = support_client.get(LIST)
    assert page.content.decode().count('name="_selected_action"') == 13
    assert len(many) == len(one)


def test_list_is_newest_first(support_client):
    old = _report()
    new = _report()
    ids = [int(i) for i in re.findall(r'name="_selected_action" value="(\d+)"', support_client.get(LIST).content.decode())]
    assert ids.index(new.pk) < ids.index(old.pk)


def test_filters_by_state_reason_team_site_and_dates(support_client, support_user):
    a = _report(reason=Reason.BROKEN)
    b = _report(reason=Reason.NOT_WORKING)
    services.report_resolve(report=b, by=support_user, note="fixed")

    def ids(query):
        html = support_client.get(LIST + query).content.decode()
        return {int(i) for i in re.findall(r'name="_selected_action" value="(\d+)"', html)}

    assert ids("?state=unresolved") == {a.pk}
    assert ids("?state=resolved") == {b.pk}
    assert ids("?reason__exact=broken") == {a.pk}
    assert ids(f"?team={a.charge_point.owner_id}") == {a.pk}
    assert ids(f"?site={b.charge_point.site_id}") == set()  # resolved: not in the default view
    assert ids(f"?state=all&site={b.charge_point.site_id}") == {b.pk}
    today = a.created_at.date().isoformat()
    assert ids(f"?state=all&created_at__from={today}&created_at__to={today}") == {a.pk, b.pk}
    assert ids("?created_at__from=2001-01-01&created_at__to=2001-01-02") == set()


def test_bad_filter_values_show_a_message_not_an_error(support_client):
    _report()
    response = support_client.get(LIST + "?created_at__from=yesterday&team=abc&state=nonsense")
    assert response.status_code == 200
    assert "is not a date" in response.content.decode()


@pytest.mark.parametrize("query", ["?created_at__to=9999-12-31", "?created_at__from=0001-01-01&created_at__to=9999-12-31"])
def test_the_last_and_first_days_there_are_filter_without_an_error(client, member_factory, query):
    report = _report()
    client.force_login(member_factory(report.charge_point.operator, Role.VIEWER))

    response = client.get(OP_LIST + query)

    assert response.status_code == 200
    assert f">{report.pk}<" in response.content.decode()


def test_search_finds_by_charge_point_serial_ocpp_site_and_description(support_client):
    cp = ChargePointFactory(name="Harbour left", serial_number="SN-XYZ-1", ocpp_id="OCPP-HARB-1",
                            site=SiteFactory(name="Quayside"))
    target = _report(charge_point=cp, description="Cable cut")
    other = _report(description="Nothing special")
    for term in ["harbour", "SN-XYZ", "HARB-1", "quaysid", "cable cut", f"#{target.pk}"]:
        html = support_client.get(LIST, {"q": term}).content.decode()
        found = {int(i) for i in re.findall(r'name="_selected_action" value="(\d+)"', html)}
        assert target.pk in found and other.pk not in found, term


def test_assign_to_owner_goes_through_a_confirmation_page_and_writes_the_timeline(support_client, member_factory):
    report = _report()
    person = member_factory(report.charge_point.owner, Role.INSTALLER)
    url = f"{LIST}{report.pk}/assign/"
    page = support_client.get(url).content.decode()
    assert "Yes, assign" in page and person.email in page or person.get_full_name() in page
    response = support_client.post(url, {"party": "owner", "person": str(person.pk), "note": "please check"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.state, report.assigned_party, report.assigned_to) == (ReportState.ASSIGNED, "owner", person)
    event = report.events.get(kind=EventKind.ASSIGNED)
    assert event.to_person == person and event.note == "please check"
    page = support_client.get(response["Location"]).content.decode()
    assert "1 report assigned to the team owner" in page


def test_assign_refuses_a_person_of_another_party(support_client, member_factory):
    report = _report()
    person = member_factory(report.charge_point.owner, Role.INSTALLER)
    response = support_client.post(f"{LIST}{report.pk}/assign/", {"party": "support", "person": str(person.pk)})
    assert response.status_code == 200
    assert "belongs to the operator or team owner, not the support" in response.content.decode()
    report.refresh_from_db()
    assert report.state == ReportState.OPEN


def test_resolve_needs_a_note_and_reopen_brings_it_back(support_client):
    report = _report()
    url = f"{LIST}{report.pk}/resolve/"
    assert "This field is required" in support_client.post(url, {"note": ""}).content.decode()
    support_client.post(url, {"note": "Rebooted remotely"})
    report.refresh_from_db()
    assert report.state == ReportState.RESOLVED and report.resolution_note == "Rebooted remotely"
    page = support_client.get(f"{LIST}{report.pk}/change/").content.decode()
    assert "Rebooted remotely" in page and "Reopen" in page and "Resolve…" not in page
    support_client.post(f"{LIST}{report.pk}/reopen/", {"note": "came back"})
    report.refresh_from_db()
    assert report.state == ReportState.OPEN
    kinds = list(report.events.values_list("kind", flat=True))
    assert kinds == [EventKind.CREATED, EventKind.RESOLVED, EventKind.REOPENED]


def test_bulk_resolve_changes_what_it_can_and_names_the_rest(support_client, support_user):
    open_one, open_two, done = _report(), _report(), _report()
    services.report_resolve(report=done, by=support_user, note="x")
    selected = [open_one.pk, open_two.pk, done.pk]
    everything = LIST + "?state=all"  # the default view hides the resolved one
    confirm = support_client.post(everything, {"action": "resolve_reports", "_selected_action": selected})
    html = confirm.content.decode()
    assert "Yes, resolve" in html and f"#{done.pk}" in html and "Cannot resolve a report that is resolved" in html
    response = support_client.post(
        everything, {"action": "resolve_reports", "_selected_action": selected, "post": "yes", "note": "batch fix"},
        follow=True,
    )
    html = response.content.decode()
    assert "2 reports resolved" in html
    assert f"#{done.pk}: Cannot resolve a report that is resolved." in html
    assert Report.objects.filter(pk__in=[open_one.pk, open_two.pk], state=ReportState.RESOLVED).count() == 2
    assert done.events.filter(kind=EventKind.RESOLVED).count() == 1


def test_support_report_page_shows_the_conversation_and_support_can_add_a_message(support_client, support_user):
    report = services.report_create(
        charge_point=ChargePointFactory(), source=Source.SUPPORT, reason=Reason.CONVERSATION, by=support_user,
        messages=[{"sender": "driver", "author_name": "Mila", "body": "It will not start"}],
    )
    page = support_client.get(f"{LIST}{report.pk}/change/").content.decode()
    assert "It will not start" in page and "Add message" in page
    support_client.post(f"{LIST}{report.pk}/message/", {"sender": "support", "body": "Try the other socket"})
    assert report.messages.filter(body="Try the other socket").exists()
    assert "Try the other socket" in support_client.get(f"{LIST}{report.pk}/change/").content.decode()


def test_report_page_links_to_the_charge_point(support_client):
    report = _report()
    page = support_client.get(f"{LIST}{report.pk}/change/").content.decode()
    assert f'/admin/chargepoints/chargepoint/{report.charge_point_id}/change/' in page
    assert report.charge_point.site.name in page and "Timeline" in page


def test_add_report_goes_through_the_service(support_client):
    cp = ChargePointFactory()
    response = support_client.post(f"{LIST}add/", {"charge_point": cp.pk, "source": "user", "reason": "broken",
                                                   "description": "Door smashed"})
    assert response.status_code == 302
    report = Report.objects.get(description="Door smashed")
    assert report.assigned_party == Party.OWNER
    assert report.events.filter(kind=EventKind.CREATED).exists()


def test_add_report_with_a_reason_of_another_source_is_refused_on_the_form(support_client):
    cp = ChargePointFactory()
    response = support_client.post(f"{LIST}add/", {"charge_point": cp.pk, "source": "support", "reason": "broken"})
    assert response.status_code == 200
    assert "cannot be used for a support report" in response.content.decode()
    assert not Report.objects.exists()


@pytest.mark.parametrize("role, can_resolve, can_assign", [
    (Role.VIEWER, False, False), (Role.INSTALLER, True, False), (Role.ADMIN, True, True),
])
def test_operator_actions_follow_the_role_on_the_server(client, member_factory, role, can_resolve, can_assign):
    report = _report()
    user = member_factory(report.charge_point.owner, role)
    client.force_login(user)
    page = client.get(f"{OP_LIST}{report.pk}/change/").content.decode()
    assert ("Resolve…" in page) is can_resolve
    assert ("Assign…" in page) is can_assign
    client.post(f"{OP_LIST}{report.pk}/assign/", {"party": "support"})
    client.post(OP_LIST, {"action": "resolve_reports", "_selected_action": [report.pk], "post": "yes",
                          "note": "done"})
    client.post(f"{OP_LIST}{report.pk}/resolve/", {"note": "done"})
    report.refresh_from_db()
    assert (report.state == ReportState.RESOLVED) is can_resolve
    assert report.events.filter(kind=EventKind.ASSIGNED).exists() is can_assign


def test_viewer_cannot_comment_but_installer_can(client, member_factory):
    report = _report()
    viewer = member_factory(report.charge_point.owner, Role.VIEWER)
    client.force_login(viewer)
    client.post(f"{OP_LIST}{report.pk}/comment/", {"body": "hello"})
    assert not report.events.filter(kind=EventKind.COMMENT).exists()
    installer = member_factory(report.charge_point.owner, Role.INSTALLER)
    client.force_login(installer)
    client.post(f"{OP_LIST}{report.pk}/comment/", {"body": "on my way"})
    assert report.events.get(kind=EventKind.COMMENT).note == "on my way"


def test_settings_update_button_saves_contacts_through_the_service(client, member_factory):
    team = TeamFactory()
    admin_user = member_factory(team, Role.ADMIN)
    client.force_login(admin_user)
    response = client.get("/operator/reporting/reportsettings/", follow=True)
    html = response.content.decode()
    assert 'value="Update"' in html
    settings = ReportSettings.objects.get(team=team)
    url = f"/operator/reporting/reportsettings/{settings.pk}/change/"
    data = {
        "email_updates": "", "self_heal_minutes": "5", "contacts-TOTAL_FORMS": "1", "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0", "contacts-MAX_NUM_FORMS": "1000",
        "contacts-0-name": "Ines", "contacts-0-email": "ines@example.com", "contacts-0-phone": "",
        "contacts-0-is_active": "on", "_save": "Update",
        "delivery": "digest", "digest_minutes": "30", "burst_threshold": "",
    }
    assert client.post(url, data).status_code == 302
    settings.refresh_from_db()
    assert settings.email_updates is False
    assert (settings.delivery, settings.digest_minutes, settings.burst_threshold) == ("digest", 30, None)
    assert list(settings.contacts.values_list("email", flat=True)) == ["ines@example.com"]


def test_a_team_admin_opts_into_self_healing_on_the_settings_screen(client, member_factory):
    team = TeamFactory()
    client.force_login(member_factory(team, Role.ADMIN))
    settings = ReportSettings.objects.get(team=team)
    url = f"/operator/reporting/reportsettings/{settings.pk}/change/"
    assert "try a soft reset before filing" in client.get(url).content.decode().lower()
    data = {
        "email_updates": "on", "delivery": "immediate", "digest_minutes": "15", "self_heal": "on", "self_heal_minutes": "8", "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0", "contacts-MIN_NUM_FORMS": "0", "contacts-MAX_NUM_FORMS": "1000",
        "_save": "Update",
    }
    assert client.post(url, data).status_code == 302
    settings.refresh_from_db()
    assert (settings.self_heal, settings.self_heal_minutes) == (True, 8)
    audit = AuditLog.objects.filter(object_type="reporting.reportsettings", object_id=str(settings.pk)).latest("pk")
    assert audit.changes["self_heal"] == {"before": False, "after": True}


def test_settings_are_read_only_for_an_installer(client, member_factory):
    team = TeamFactory()
    contact = ReportContactFactory(settings__team=team, name="Original")
    installer = member_factory(team, Role.INSTALLER)
    client.force_login(installer)
    url = f"/operator/reporting/reportsettings/{contact.settings.pk}/change/"
    html = client.get(url).content.decode()
    assert 'value="Update"' not in html and "Only the team's admins" in html
    client.post(url, {"email_updates": "", "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0",
                      "contacts-MIN_NUM_FORMS": "0", "contacts-MAX_NUM_FORMS": "1000"})
    assert ReportContact.objects.filter(pk=contact.pk, name="Original").exists()


def test_dashboard_counts_open_reports_by_reason_and_party(support_client, support_user):
    _report(reason=Reason.BROKEN)
    _report(reason=Reason.BROKEN)
    done = _report(reason=Reason.OTHER)
    services.report_resolve(report=done, by=support_user, note="x")
    from django.core.cache import cache

    cache.clear()
    html = support_client.get("/admin/").content.decode()
    assert "Open reports" in html and "Charge point is broken" in html and "Reports per day" in html
    assert re.search(r"Charge point is broken</a></td><td class=\"num\">2<", html)
    assert "Something else</a>" not in html[html.index("Open by reason"):]  # resolved: not open


def test_dashboard_has_useful_empty_states(client, member_factory):
    user = member_factory(TeamFactory(), Role.VIEWER)
    client.force_login(user)
    html = client.get("/operator/").content.decode()
    assert "No open reports. Nothing is waiting." in html
    assert "No reports in the last 30 days." in html


def _start_here(html: str) -> str:
    return html[html.index('id="start-here"'):html.index("Open reports")]


def test_dashboard_starts_each_login_with_what_to_look_at_first(client, member_factory, support_user):
    team, other = TeamFactory(), TeamFactory()
    ours = ChargePointFactory(owner=team, operator=team, name="Harbour 1")
    theirs = ChargePointFactory(owner=other, operator=other, name="Elsewhere 1")
    installer = member_factory(team, Role.INSTALLER)
    admin = member_factory(team, Role.ADMIN)
    viewer = member_factory(team, Role.VIEWER)
    older = _report(charge_point=ours, reason=Reason.BROKEN)
    newer = _report(charge_point=ours, reason=Reason.PARKING_BLOCKED)
    _report(charge_point=theirs, reason=Reason.OTHER)
    services.report_assign(report=older, party=Party.OPERATOR, person=installer, by=admin, note="On site Monday")
    conversation = _report(charge_point=theirs, source=Source.SUPPORT, reason=Reason.CONVERSATION, by=support_user,
                           messages=[{"sender": "driver", "author_name": "Jan", "body": "Help"}])

    client.force_login(installer)
    start = _start_here(client.get("/operator/").content.decode())
    assert "Start with your work: the reports assigned to you" in start
    newest = start[start.index('id="newest-reports"'):start.index('id="my-work"')]
    assert newest.index(f"#{newer.pk} Car blocking") < newest.index(f"#{older.pk} Charge point is broken")
    assert "Elsewhere 1" not in start  # another team's report is not shown
    mine = start[start.index('id="my-work"'):]
    assert f"#{older.pk} Charge point is broken" in mine and f"#{newer.pk}" not in mine

    client.force_login(admin)
    start = _start_here(client.get("/operator/").content.decode())
    assert "assign each to the person who should act" in start
    assert "Nothing is assigned to you by name." in start

    client.force_login(viewer)
    start = _start_here(client.get("/operator/").content.decode())
    assert "changing them takes an installer or an admin" in start

    client.force_login(support_user)
    start = _start_here(client.get("/admin/").content.decode())
    assert "then the support queue" in start and "Elsewhere 1" in start
    mine = start[start.index('id="my-work"'):]
    assert "Waiting for support" in mine and f"#{conversation.pk} Support conversation" in mine
    assert f"#{older.pk}" not in mine


def test_dashboard_start_here_has_useful_empty_states(client, member_factory, support_user):
    client.force_login(member_factory(TeamFactory(), Role.INSTALLER))
    start = _start_here(client.get("/operator/").content.decode())
    assert "No reports yet. The health checks file one when a charge point" in start
    assert "Nothing is assigned to you. When an admin assigns you a report, it appears here." in start
    client.force_login(support_user)
    start = _start_here(client.get("/admin/").content.decode())
    assert "Nothing is waiting for support" in start


def test_report_page_says_how_each_driver_reached_us(support_client):
    from reporting.reporters import Driver, report_file_by_driver

    for channel, said in [("web", "on the public page"), ("app", "in the drivers&#x27; app")]:
        filing = report_file_by_driver(charge_point=ChargePointFactory(), reason=Reason.BROKEN, description="Cracked",
                                       driver=Driver(name="Mila", email="mila@example.net", channel=channel))
        html = support_client.get(f"{LIST}{filing.report.pk}/change/").content.decode()
        assert f"Mila &lt;mila@example.net&gt; ({said})</li>" in html


def test_unknown_report_id_is_a_redirect_not_an_error(support_client):
    response = support_client.get(f"{LIST}999999/change/")
    assert response.status_code == 302
    assert support_client.get(f"{LIST}999999/assign/").status_code == 404
    assert support_client.get(f"{LIST}abc/change/").status_code in (302, 404)
    assert support_client.get(ReportFactory().charge_point and f"{LIST}?p=999").status_code in (200, 302)


@pytest.mark.parametrize("prefix", ["admin", "operator"])
def test_login_pages_work_for_anonymous_visitors(client, prefix):
    response = client.get(f"/{prefix}/login/?next=/{prefix}/")
    assert response.status_code == 200 and 'name="password"' in response.content.decode()


def test_operator_logs_in_with_the_form_and_lands_on_the_dashboard(client, member_factory):
    from tests.factories import PASSWORD

    user = member_factory(TeamFactory(), Role.OWNER)
    response = client.post("/operator/login/?next=/operator/", {"username": user.email, "password": PASSWORD},
                           follow=True)
    assert 'id="dashboard"' in response.content.decode()


def test_operator_login_refuses_an_account_without_a_team(client):
    from tests.factories import PASSWORD, UserFactory

    user = UserFactory()
    response = client.post("/operator/login/?next=/operator/", {"username": user.email, "password": PASSWORD})
    assert "not a member of any team" in response.content.decode()


def test_report_page_shows_the_telemetry_around_the_report(support_client):
    import datetime

    from chargepoints.models import Charge, ChargeOutcome, SignalKind, SignalReading, StateChange

    report = _report()
    cp, at = report.charge_point, report.created_at
    StateChange.objects.create(charge_point=cp, event_id="sc-1", state="error", error_code="GroundFailure",
                               occurred_at=at - datetime.timedelta(minutes=20))
    SignalReading.objects.create(charge_point=cp, event_id="sig-1", kind=SignalKind.WIFI, dbm=-87,
                                 occurred_at=at - datetime.timedelta(minutes=5))
    Charge.objects.create(charge_point=cp, event_id="ch-1", started_at=at - datetime.timedelta(hours=1),
                          ended_at=at - datetime.timedelta(minutes=50), energy_wh=0, outcome=ChargeOutcome.FAILED,
                          failure_reason="no energy delivered")
    StateChange.objects.create(charge_point=cp, event_id="sc-old", state="busy", error_code="LongAgo",
                               occurred_at=at - datetime.timedelta(days=9))
    html = support_client.get(f"{LIST}{report.pk}/change/").content.decode()
    evidence = html.split('id="evidence"')[1]
    assert "GroundFailure" in evidence and "-87 dBm" in evidence and "no energy delivered" in evidence
    assert "LongAgo" not in evidence
    cp_page = support_client.get(f"/admin/chargepoints/chargepoint/{cp.pk}/change/").content.decode()
    assert "no energy delivered" in cp_page.split('id="recent-telemetry"')[1]


def test_operators_see_people_of_other_teams_by_name_only(client, member_factory, support_user):
    from tests.factories import MembershipFactory, UserFactory

    owner, operator_team = TeamFactory(), TeamFactory()
    cp = ChargePointFactory(site__team=owner, owner=owner, operator=operator_team)
    nameless = UserFactory(first_name="", last_name="")
    MembershipFactory(user=nameless, team=owner, role=Role.INSTALLER)
    report = _report(charge_point=cp)
    services.report_assign(report=report, party=Party.OWNER, person=nameless, by=support_user)
    client.force_login(member_factory(operator_team, Role.ADMIN))

    page = client.get(f"{OP_LIST}{report.pk}/change/").content.decode()
    listing = client.get(OP_LIST).content.decode()
    confirm = client.get(f"{OP_LIST}{report.pk}/resolve/").content.decode()

    for html in (page, listing, confirm):
        assert nameless.email not in html
        assert f"User #{nameless.pk}" in html
    client.force_login(support_user)
    assert nameless.email in client.get(f"{LIST}{report.pk}/change/").content.decode()


def _reason_groups(html: str) -> dict[str, list[str]]:
    select = re.search(r'<select name="reason".*?</select>', html, re.S).group(0)
    return {label: re.findall(r'<option value="([^"]+)"', body)
            for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)}


def test_add_page_groups_the_reasons_by_source(support_client):
    groups = _reason_groups(support_client.get(f"{LIST}add/").content.decode())
    assert set(groups) == {"User report", "Support report"}
    assert groups["Support report"] == ["conversation"]
    assert "broken" in groups["User report"] and "tax_refund" in groups["User report"]
    assert "bad_wifi" not in sum(groups.values(), [])  # the health checks' reasons are never filed by hand


def test_add_page_opened_from_a_charge_point_offers_only_the_reasons_that_fit(support_client):
    danish = ChargePointFactory(site=SiteFactory(country="DK"))
    swedish = ChargePointFactory(site=SiteFactory(country="SE"))

    se = _reason_groups(support_client.get(f"{LIST}add/?charge_point={swedish.pk}&source=user").content.decode())
    dk = _reason_groups(support_client.get(f"{LIST}add/?charge_point={danish.pk}&source=user").content.decode())

    assert set(se) == {"User report"} and "tax_refund" not in se["User report"] and "broken" in se["User report"]
    assert "tax_refund" in dk["User report"]
    page = support_client.get(f"/admin/chargepoints/chargepoint/{swedish.pk}/change/").content.decode()
    assert f'href="{LIST}add/?charge_point={swedish.pk}&amp;source=user"' in page


def test_add_report_with_a_reason_of_another_country_is_refused_and_the_form_narrows(support_client):
    swedish = ChargePointFactory(site=SiteFactory(country="SE"))
    response = support_client.post(f"{LIST}add/", {"charge_point": swedish.pk, "source": "user",
                                                   "reason": "tax_refund"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "is only for charge points in DK; this one is in SE" in html
    assert "tax_refund" not in _reason_groups(html)["User report"]
    assert not Report.objects.exists()


def test_after_filing_the_new_reports_page_opens(support_client):
    cp = ChargePointFactory()
    response = support_client.post(f"{LIST}add/", {"charge_point": cp.pk, "source": "user", "reason": "broken",
                                                   "description": "Holster cracked"})
    report = Report.objects.get(description="Holster cracked")
    assert response.status_code == 302 and response["Location"] == f"{LIST}{report.pk}/change/"
    assert f"Report #{report.pk} filed." in support_client.get(response["Location"]).content.decode()


def test_a_team_member_files_only_user_reports_and_lands_on_the_report(client, member_factory):
    team = TeamFactory()
    cp = ChargePointFactory(operator=team)
    client.force_login(member_factory(team, Role.INSTALLER))
    assert set(_reason_groups(client.get(f"{OP_LIST}add/").content.decode())) == {"User report"}
    response = client.post(f"{OP_LIST}add/", {"charge_point": cp.pk, "source": "user", "reason": "broken"})
    report = Report.objects.get(charge_point=cp)
    assert response["Location"] == f"{OP_LIST}{report.pk}/change/"


def test_report_page_highlights_the_readings_that_made_the_check_fire(support_client):
    import datetime

    from chargepoints.models import SignalKind, SignalReading

    report = _report(source=Source.SYSTEM, reason=Reason.BAD_WIFI, description="Weak Wi-Fi")
    cp, at = report.charge_point, report.created_at
    for n, (dbm, ago) in enumerate([(-88, 3), (-86, 8), (-55, 40)]):
        SignalReading.objects.create(charge_point=cp, event_id=f"w-{n}", kind=SignalKind.WIFI, dbm=dbm,
                                     occurred_at=at - datetime.timedelta(minutes=ago))

    evidence = support_client.get(f"{LIST}{report.pk}/change/").content.decode().split('id="evidence"')[1]

    assert "the check looked for every Wi-Fi reading below -80 dBm for 15 minutes" in evidence
    fired = re.findall(r'<tr class="bo-fired">.*?</tr>', evidence)
    assert len(fired) == 2 and "-88 dBm" in fired[1] and "-86 dBm" in fired[0]
    assert "-55 dBm" in evidence and not any("-55 dBm" in row for row in fired)
