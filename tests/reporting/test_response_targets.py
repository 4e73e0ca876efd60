"""reporting/response_targets.py and response_target_services.py: due times,
a target missed by one second (and not a second before), each miss recorded,
e-mailed and escalated once, time left in the admin and the API, and the
dashboard's breached / at-risk counts at their boundaries."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache

from accounts.models import AuditLog, Role
from core.errors import Invalid, NotAllowed
from notifications import services as outbox
from notifications.models import Notification, NotificationKind
from reporting import services
from reporting.catalogue import Party, Reason, Source
from reporting.models import EventKind, Report, ReportEvent, ReportState
from reporting.response_target_services import response_target_save, response_targets_check
from reporting.response_targets import report_time_left, response_target_counts
from reporting.settings_models import ResponseBreach, ResponseTarget
from tests.factories import (
    ChargePointFactory,
    ReportContactFactory,
    ReportSettingsFactory,
    SiteFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def email_settings(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.SITE_URL = "https://reports.example.com"


@pytest.fixture
def eager_celery():
    from config.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def support_client(client, support_user):
    client.force_login(support_user)
    return client


@pytest.fixture
def operator():
    team = TeamFactory(name="Volt Ops", language="en")
    team_settings = ReportSettingsFactory(team=team)
    ReportContactFactory(settings=team_settings, name="Ada", email="ada@ops.example")
    ReportContactFactory(settings=team_settings, name="Bo", email="bo@ops.example")
    return team


@pytest.fixture
def charge_point(operator):
    owner = TeamFactory(name="Owner Co")
    return ChargePointFactory(site=SiteFactory(team=owner), owner=owner, operator=operator, name="Pier 1")


def file(charge_point, source=Source.USER):
    return services.report_create(charge_point=charge_point, source=source, reason=Reason.NOT_WORKING)


def default_target(**fields):
    fields.setdefault("source", Source.USER)
    return ResponseTarget.objects.create(team=None, **fields)


def check(capture, now):
    """The minutely check at ``now``, its e-mails written and sent."""
    with capture(execute=True):
        counts = response_targets_check(now=now)
    outbox.notifications_send_due(now=now)
    return counts


def recipients():
    """Who got an e-mail about a missed target (the new report's own e-mails
    go out with them: its timeline row waits for the same processing)."""
    return sorted(
        message.to[0].split("<")[-1].rstrip(">") for message in mail.outbox
        if "#" in message.subject and ("missed" in message.subject or "overskred" in message.subject)
    )


# --- the boundary -------------------------------------------------------------------


def test_a_target_is_not_missed_a_second_before_it_is_due_and_is_missed_one_second_after(
    charge_point, django_capture_on_commit_callbacks, eager_celery
):
    default_target(time_to_assign=HOUR)
    report = file(charge_point)
    mail.outbox.clear()  # the new report's own e-mails
    due = report.created_at + HOUR

    assert check(django_capture_on_commit_callbacks, due - SECOND)["assign"] == 0
    assert not ReportEvent.objects.filter(kind=EventKind.TARGET_MISSED).exists()
    assert recipients() == []

    assert check(django_capture_on_commit_callbacks, due + SECOND)["assign"] == 1

    row = ReportEvent.objects.get(report=report, kind=EventKind.TARGET_MISSED)
    assert row.actor_label == "Response-time targets"
    assert row.note.startswith("Missed the time to assign of 1 h 0 min")
    assert recipients() == ["ada@ops.example", "bo@ops.example"]
    missed = [m for m in mail.outbox if "missed" in m.subject]
    assert missed[0].subject == f"Report #{report.pk} missed its response-time target: Charge point is not working at Pier 1"
    assert "The report missed its response-time target (Time to assign)" in missed[0].body
    assert set(Notification.objects.filter(kind=NotificationKind.TARGET_MISSED).values_list("status", flat=True)) == {
        "sent"
    }


def test_a_second_check_records_and_emails_nothing_again(charge_point, django_capture_on_commit_callbacks, eager_celery):
    default_target(time_to_assign=HOUR)
    report = file(charge_point)
    mail.outbox.clear()
    due = report.created_at + HOUR
    check(django_capture_on_commit_callbacks, due + SECOND)
    mail.outbox.clear()

    assert check(django_capture_on_commit_callbacks, due + 2 * HOUR) == {"assign": 0, "resolve": 0, "reassigned": 0}
    assert ReportEvent.objects.filter(kind=EventKind.TARGET_MISSED).count() == 1
    assert ResponseBreach.objects.count() == 1
    assert recipients() == []


def test_an_assigned_report_misses_no_assign_target_but_the_resolve_target(
    charge_point, django_capture_on_commit_callbacks
):
    default_target(time_to_assign=HOUR, time_to_resolve=2 * HOUR)
    report = file(charge_point)
    services.report_assign(report=report, party=Party.OPERATOR, by=None)

    counts = check(django_capture_on_commit_callbacks, report.created_at + 2 * HOUR + SECOND)

    assert (counts["assign"], counts["resolve"]) == (0, 1)
    assert list(ResponseBreach.objects.values_list("kind", flat=True)) == ["resolve"]


def test_a_resolved_report_misses_nothing(charge_point, django_capture_on_commit_callbacks):
    default_target(time_to_assign=HOUR, time_to_resolve=HOUR)
    report = file(charge_point)
    services.report_resolve(report=report, by=None)

    assert check(django_capture_on_commit_callbacks, report.created_at + 5 * HOUR)["resolve"] == 0


def test_a_teams_own_target_wins_and_an_empty_time_falls_back_to_the_default(
    charge_point, operator, django_capture_on_commit_callbacks
):
    default_target(time_to_assign=HOUR, time_to_resolve=4 * HOUR)
    ResponseTarget.objects.create(team=operator, source=Source.USER, time_to_assign=3 * HOUR)
    report = file(charge_point)

    assert check(django_capture_on_commit_callbacks, report.created_at + 2 * HOUR)["assign"] == 0
    counts = check(django_capture_on_commit_callbacks, report.created_at + 4 * HOUR + SECOND)
    assert (counts["assign"], counts["resolve"]) == (1, 1)


def test_targets_are_per_source(charge_point, django_capture_on_commit_callbacks):
    default_target(source=Source.SYSTEM, time_to_assign=HOUR)
    report = file(charge_point, source=Source.USER)

    assert check(django_capture_on_commit_callbacks, report.created_at + 5 * HOUR)["assign"] == 0


# --- escalation ----------------------------------------------------------------------


def test_a_missed_target_re_assigns_the_report_to_the_named_party(charge_point, django_capture_on_commit_callbacks):
    default_target(time_to_assign=HOUR, escalation="reassign", escalate_to=Party.SUPPORT)
    report = file(charge_point)

    counts = check(django_capture_on_commit_callbacks, report.created_at + HOUR + SECOND)

    report.refresh_from_db()
    assert counts["reassigned"] == 1
    assert (report.state, report.assigned_party) == (ReportState.ASSIGNED, Party.SUPPORT)
    assigned = ReportEvent.objects.get(report=report, kind=EventKind.ASSIGNED)
    assert assigned.note == "Re-assigned: the time to assign was missed."


def test_a_missed_target_that_escalates_to_support_emails_support_in_english(
    charge_point, operator, settings, django_capture_on_commit_callbacks, eager_celery
):
    settings.RESPONSE_TARGETS_SUPPORT_EMAIL = "duty@support.example"
    operator.language = "da"
    operator.save()
    default_target(time_to_resolve=HOUR, escalation="notify_support")
    report = file(charge_point)
    mail.outbox.clear()

    check(django_capture_on_commit_callbacks, report.created_at + HOUR + SECOND)

    assert recipients() == ["ada@ops.example", "bo@ops.example", "duty@support.example"]
    to_support = next(m for m in mail.outbox if "duty@" in m.to[0])
    assert to_support.subject.startswith(f"Report #{report.pk} missed its response-time target")
    assert f"https://reports.example.com/admin/reporting/report/{report.pk}/change/" in to_support.body
    assert "escalated to support" in to_support.body
    to_team = next(m for m in mail.outbox if "ada@" in m.to[0] and "Ny rapport" not in m.subject)
    assert to_team.subject.startswith(f"Rapport #{report.pk} overskred sin svartid")


# --- time left, counts ----------------------------------------------------------------


def test_time_left_follows_the_target_that_applies_now(charge_point):
    default_target(time_to_assign=HOUR, time_to_resolve=10 * HOUR)
    report = file(charge_point)

    left = report_time_left(report, now=report.created_at + 40 * timedelta(minutes=1))
    assert (left.kind, left.label()) == ("assign", "assign: 20 min left")
    left = report_time_left(Report.objects.get(pk=report.pk), now=report.created_at + 50 * timedelta(minutes=1) + SECOND)
    assert left.label() == "assign: 9 min left (at risk)"
    services.report_assign(report=report, party=Party.OWNER, by=None)
    left = report_time_left(Report.objects.get(pk=report.pk), now=report.created_at + 11 * HOUR)
    assert (left.kind, left.breached, left.label()) == ("resolve", True, "resolve: overdue by 1 h 0 min")


def test_breached_and_at_risk_counts_at_their_boundaries(charge_point):
    # At risk: less than 20 % of the target left (RESPONSE_TARGETS_AT_RISK_SHARE).
    default_target(time_to_assign=timedelta(minutes=100))
    report = file(charge_point)
    at = report.created_at
    minute = timedelta(minutes=1)

    assert response_target_counts(Report.objects.all(), now=at + 80 * minute) == {"breached": 0, "at_risk": 0}
    assert response_target_counts(Report.objects.all(), now=at + 80 * minute + SECOND) == {"breached": 0, "at_risk": 1}
    assert response_target_counts(Report.objects.all(), now=at + 100 * minute - SECOND) == {"breached": 0, "at_risk": 1}
    assert response_target_counts(Report.objects.all(), now=at + 100 * minute) == {"breached": 1, "at_risk": 0}


def test_without_any_target_the_counts_are_zero_without_reading_the_reports(charge_point):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    file(charge_point)
    ResponseTarget.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        counts = response_target_counts(Report.objects.all())
    assert counts == {"breached": 0, "at_risk": 0}
    assert not [q for q in queries.captured_queries if "reporting_report" in q["sql"]]


def test_the_dashboard_shows_breached_and_at_risk_with_links(charge_point, support_client):
    default_target(time_to_assign=HOUR)
    late, soon = file(charge_point), file(charge_point)
    Report.objects.filter(pk=late.pk).update(created_at=late.created_at - 2 * HOUR)
    Report.objects.filter(pk=soon.pk).update(created_at=soon.created_at - 55 * timedelta(minutes=1))
    cache.clear()

    html = support_client.get("/admin/").content.decode()

    assert "Response-time targets" in html
    assert re.search(r'href="/admin/reporting/report/\?target=at_risk">At risk</a></td><td class="num">1<', html)
    assert re.search(r'href="/admin/reporting/report/\?target=breached">Breached</a></td><td class="num">1<', html)
    listing = support_client.get("/admin/reporting/report/?target=breached").content.decode()
    assert "assign: overdue by 1 h 0 min" in listing and "left (at risk)" not in listing
    listing = support_client.get("/admin/reporting/report/?target=at_risk").content.decode()
    assert "assign: 4 min left (at risk)" in listing and "overdue" not in listing


def test_the_report_page_and_the_api_show_the_time_left(charge_point, support_client):
    default_target(time_to_resolve=10 * HOUR)
    report = file(charge_point)
    services.report_assign(report=report, party=Party.OWNER, by=None)

    page = support_client.get(f"/admin/reporting/report/{report.pk}/change/").content.decode()
    assert re.search(r"resolve: 9 h 5\d min left", page)
    data = support_client.get(f"/api/v1/reports/{report.pk}/").json()
    assert data["time_left"]["kind"] == "resolve"
    assert 9 * 3600 < data["time_left"]["seconds_left"] <= 10 * 3600
    assert (data["time_left"]["breached"], data["time_left"]["at_risk"]) == (False, False)


# --- who may set targets ------------------------------------------------------------------


def test_only_support_sets_the_defaults_and_a_teams_admin_sets_the_teams(member_factory, support_user, operator):
    admin = member_factory(operator, Role.ADMIN)
    with pytest.raises(NotAllowed):
        response_target_save(target=ResponseTarget(source=Source.USER, time_to_assign=HOUR), by=admin)
    with pytest.raises(NotAllowed):
        response_target_save(target=ResponseTarget(team=operator, source=Source.USER, time_to_assign=HOUR),
                             by=member_factory(operator, Role.VIEWER))
    response_target_save(target=ResponseTarget(team=operator, source=Source.USER, time_to_assign=HOUR), by=admin)
    response_target_save(target=ResponseTarget(source=Source.USER, time_to_assign=HOUR), by=support_user)

    assert ResponseTarget.objects.count() == 2
    assert AuditLog.objects.filter(object_type="reporting.responsetarget").count() == 2


@pytest.mark.parametrize("bad", [{"time_to_assign": -HOUR}, {"escalation": "reassign", "escalate_to": ""}])
def test_a_bad_target_is_refused(support_user, bad):
    with pytest.raises(Invalid):
        response_target_save(target=ResponseTarget(source=Source.USER, **bad), by=support_user)
    assert not ResponseTarget.objects.exists()


def test_operator_admins_see_and_add_their_teams_targets_only(client, member_factory, operator):
    other = TeamFactory(name="Elsewhere")
    ResponseTarget.objects.create(team=other, source=Source.USER, time_to_assign=HOUR)
    admin = member_factory(operator, Role.ADMIN)
    client.force_login(admin)

    response = client.post("/operator/reporting/responsetarget/add/", {
        "team": operator.pk, "source": "user", "time_to_assign": "02:00:00", "time_to_resolve": "",
        "escalation": "none", "escalate_to": "",
    })
    assert response.status_code == 302
    listing = client.get("/operator/reporting/responsetarget/").content.decode()
    assert "Volt Ops" in listing and "Elsewhere" not in listing and "2 h 0 min" in listing

    viewer = member_factory(operator, Role.VIEWER)
    client.force_login(viewer)
    assert client.get("/operator/reporting/responsetarget/add/").status_code == 403


def test_support_edits_the_defaults_in_the_admin(support_client):
    response = support_client.post("/admin/reporting/responsetarget/add/", {
        "team": "", "source": "system", "time_to_assign": "00:30:00", "time_to_resolve": "1 00:00:00",
        "escalation": "reassign", "escalate_to": "support",
    })

    assert response.status_code == 302
    target = ResponseTarget.objects.get()
    assert (target.team, target.time_to_assign, target.time_to_resolve) == (None, timedelta(minutes=30), 24 * HOUR)
    html = support_client.get("/admin/reporting/responsetarget/").content.decode()
    assert "Default (every team without its own)" in html


# --- on PostgreSQL, really at once -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_checks_at_once_record_and_email_each_miss_once(require_postgres, charge_point, eager_celery):
    from tests.notifications.test_concurrency import run_at_once

    default_target(time_to_assign=HOUR, escalation="reassign", escalate_to=Party.OWNER)
    reports = [file(charge_point) for _ in range(5)]
    mail.outbox.clear()
    now = max(r.created_at for r in reports) + HOUR + SECOND

    run_at_once(lambda: response_targets_check(now=now), lambda: response_targets_check(now=now))
    from notifications.events import notifications_process_events

    notifications_process_events(now=now)
    outbox.notifications_send_due(now=now)

    assert ReportEvent.objects.filter(kind=EventKind.TARGET_MISSED).count() == 5
    assert ReportEvent.objects.filter(kind=EventKind.ASSIGNED, note__startswith="Re-assigned").count() == 5
    missed = [m for m in mail.outbox if "missed its response-time target" in m.subject]
    assert len(missed) == 5 * 2


def test_a_danish_reader_sees_the_time_left_in_danish(charge_point, client, member_factory):
    from accounts.models import Role

    charge_point.operator.language = "da"
    charge_point.operator.save(update_fields=["language"])
    default_target(time_to_assign=HOUR)
    late = file(charge_point)
    Report.objects.filter(pk=late.pk).update(created_at=late.created_at - 2 * HOUR)
    client.force_login(member_factory(charge_point.operator, Role.ADMIN))

    listing = client.get("/operator/reporting/report/?target=breached").content.decode()

    assert "tildeling: overskredet med 1 h 0 min" in listing and "overdue" not in listing
