"""reporting/tallies.py: the dashboards read tallies that database triggers
keep from every write of a report, and each figure equals what grouped
queries over the reports give, for support and for team members."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from chargepoints.assets import charge_point_update
from reporting import services, tallies
from reporting.catalogue import Party, Reason, Source
from reporting.models import Report, ReportChargePointRecent, ReportOpenTally, ReportTallyDelta
from reporting.selectors import report_dashboard_figures, report_dashboard_figures_from_reports
from reporting.settings_models import ResponseTarget
from tests.factories import (
    ChargePointFactory,
    MembershipFactory,
    SiteFactory,
    SupportUserFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def _file(cp, reason=Reason.BROKEN, source=Source.USER, age=timedelta(0)):
    report = services.report_create(charge_point=cp, source=source, reason=reason)
    if age:
        Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - age)
        report.refresh_from_db()
    return report


def _both(actor, monkeypatch) -> tuple[dict, dict]:
    """Both ways of computing the dashboard, at the same instant."""
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)
    try:
        return report_dashboard_figures(actor=actor), report_dashboard_figures_from_reports(actor=actor)
    finally:
        monkeypatch.undo()


@pytest.fixture
def world(member_factory):
    """Four teams, reports of every kind: filed over 40 days, assigned,
    resolved, reopened, moved with their charge point, deleted, a site
    report, a conversation without a charge point, and response targets."""
    support = SupportUserFactory()
    a, b, c, d = (TeamFactory(name=f"Team {x}") for x in "ABCD")
    site_a, site_c = SiteFactory(team=a), SiteFactory(team=c)
    a_by_b = ChargePointFactory(site=site_a, owner=a, operator=b, name="A by B")
    a_own = ChargePointFactory(site=site_a, owner=a, operator=a, name="A own")
    c_own = ChargePointFactory(site=site_c, owner=c, operator=c, name="C own")
    c_by_d = ChargePointFactory(site=site_c, owner=c, operator=d, name="C by D")  # D sees C's site reports
    moving = ChargePointFactory(site=site_a, owner=a, operator=b, name="Moving")

    reasons = [Reason.BROKEN, Reason.NOT_WORKING, Reason.OTHER, Reason.PARKING_BLOCKED]
    reports = []
    for i in range(36):
        cp = [a_by_b, a_own, c_own, c_by_d, moving][i % 5]
        reports.append(_file(cp, reason=reasons[i % 4], age=(i * 29 % 41) * DAY + (i * 37 % 23) * timedelta(hours=1)
                             + timedelta(minutes=i)))
    for report in reports[::3]:
        services.report_assign(report=report, party=Party.OWNER, by=support)
    for report in reports[1::4]:
        services.report_resolve(report=report, by=support, note="Done.")
    services.report_reopen(report=reports[1], by=support)
    services.report_assign(report=reports[6], party=Party.SUPPORT, by=support)
    services.report_file_site_reports(reason=Reason.SITE_OFFLINE, sites=[(site_c.pk, "All down.")],
                                      now=timezone.now() - 3 * DAY)
    services.report_file_system_bulk(
        reason=Reason.DISCONNECTED, now=timezone.now() - timedelta(minutes=100),
        offenders=[{"pk": cp.pk, "owner_id": cp.owner_id, "operator_id": cp.operator_id, "description": "Gone."}
                   for cp in (a_by_b, c_own)])
    services.report_create(charge_point=None, source=Source.SUPPORT, reason=Reason.CONVERSATION, by=support)
    charge_point_update(charge_point=moving, operator=c, by=support)
    Report.objects.filter(pk__in=[reports[7].pk, reports[8].pk]).delete()
    with connection.cursor() as cursor:  # a writer that bypasses Django entirely
        cursor.execute("UPDATE reporting_report SET reason = %s WHERE id = %s", [Reason.OTHER, reports[10].pk])
    ResponseTarget.objects.create(team=None, source=Source.USER, time_to_assign=timedelta(hours=6),
                                  time_to_resolve=timedelta(days=9))
    ResponseTarget.objects.create(team=None, source=Source.SYSTEM, time_to_resolve=timedelta(hours=2))
    ResponseTarget.objects.create(team=b, source=Source.USER, time_to_resolve=timedelta(days=20))
    both = member_factory(a, Role.VIEWER)
    MembershipFactory(user=both, team=b, role=Role.ADMIN)
    return {"support": support, "a": member_factory(a, Role.ADMIN), "b": member_factory(b, Role.ADMIN),
            "c": member_factory(c, Role.VIEWER), "d": member_factory(d, Role.INSTALLER), "a and b": both,
            "none": member_factory(TeamFactory(), Role.ADMIN)}


def test_every_figure_equals_the_grouped_queries_over_the_reports(world, monkeypatch):
    seen = {}
    for who, actor in world.items():
        ours, theirs = _both(actor, monkeypatch)
        assert ours == theirs, who
        seen[who] = ours
    everything = seen["support"]
    # Not trivially equal: the world has something to show in every figure.
    assert everything["open_total"] > 10 and len(everything["by_reason"]) >= 4 and len(everything["by_party"]) == 3
    assert everything["oldest"] and everything["per_day_total"] > 10 and len(everything["top_charge_points"]) == 5
    assert everything["targets"]["breached"] > 0 and everything["targets"]["at_risk"] > 0
    assert seen["none"]["open_total"] == 0 and seen["none"]["oldest"] is None
    # A report of a charge point A owns and B operates counts once for a member of both.
    assert seen["a and b"]["open_total"] < seen["a"]["open_total"] + seen["b"]["open_total"]
    assert seen["d"]["by_reason"][0]["reason"] == Reason.SITE_OFFLINE or any(
        row["reason"] == Reason.SITE_OFFLINE for row in seen["d"]["by_reason"])
    assert tallies.tallies_verify() == []


def test_figures_stay_equal_after_further_changes_through_any_writer(world, monkeypatch):
    report_dashboard_figures(actor=world["support"])
    Report.objects.filter(reason=Reason.BROKEN).update(state="resolved")
    Report.objects.filter(reason=Reason.OTHER).update(assigned_party=Party.SUPPORT)
    Report.objects.filter(reason=Reason.NOT_WORKING, state="open").delete()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE reporting_report SET created_at = %s WHERE reason = %s",
                       [timezone.now() - 2 * DAY - timedelta(minutes=7), Reason.PARKING_BLOCKED])
    assert ReportTallyDelta.objects.exists()
    assert tallies.tallies_verify() == []  # the changes not folded yet count too
    for who, actor in world.items():
        ours, theirs = _both(actor, monkeypatch)
        assert ours == theirs, who
    assert not ReportTallyDelta.objects.exists()


def test_the_dashboard_groups_no_reports(world):
    report_dashboard_figures(actor=world["a"])  # folds
    with CaptureQueriesContext(connection) as queries:
        report_dashboard_figures(actor=world["support"])
        report_dashboard_figures(actor=world["a and b"])
    on_reports = [q["sql"] for q in queries.captured_queries if '"reporting_report"' in q["sql"]]
    # The reports are read by index endpoints (the oldest) and, for the
    # response targets, within hours bounded by the filing time.
    grouped = [sql for sql in on_reports if "GROUP BY" in sql]
    assert on_reports and grouped and all('"created_at" <' in sql for sql in grouped)
    assert len(queries.captured_queries) < 40


def test_the_top_charge_points_window_follows_the_day(world):
    tallies.tallies_fold()
    today = timezone.now().date()
    before = dict(ReportChargePointRecent.objects.values_list("charge_point_id", "n"))
    later = today + 12 * DAY
    assert tallies.tallies_fold(today=later) == 0
    after = dict(ReportChargePointRecent.objects.values_list("charge_point_id", "n"))
    assert sum(after.values()) < sum(before.values())
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + 12 * DAY - (tallies.WINDOW_DAYS - 1) * DAY
    expected = {}
    for cp_id in Report.objects.filter(created_at__gte=start, charge_point__isnull=False).values_list(
            "charge_point_id", flat=True):
        expected[cp_id] = expected.get(cp_id, 0) + 1
    assert after == expected
    assert tallies.tallies_verify() == []


def test_a_pending_change_is_folded_once_even_when_folded_twice(world):
    tallies.tallies_fold()
    report = Report.objects.exclude(state="resolved").filter(charge_point__isnull=False).first()
    services.report_resolve(report=report, by=world["support"], note="Fixed.")
    assert tallies.tallies_fold() == 2  # the report as it was (-1) and as it is (+1)
    assert tallies.tallies_fold() == 0
    assert tallies.tallies_verify() == []


def test_the_command_checks_and_rebuilds(world, capsys):
    call_command("report_tallies")
    assert "Folded" in capsys.readouterr().out
    call_command("report_tallies", "--check")
    assert "agree" in capsys.readouterr().out
    ReportOpenTally.objects.filter(pk=ReportOpenTally.objects.order_by("pk").first().pk).update(n=999)
    with pytest.raises(CommandError, match="1 tally rows differ"):
        call_command("report_tallies", "--check")
    assert "999 counted" in capsys.readouterr().err
    call_command("report_tallies", "--rebuild", "--check", verbosity=0)
    assert tallies.tallies_verify() == []


def test_response_target_counts_from_the_tallies_match_at_every_boundary(world):
    from django.db.models import Q

    from reporting.response_targets import response_target_counts, response_target_counts_tallied

    tallies.tallies_fold()
    minute, second = timedelta(minutes=1), timedelta(seconds=1)
    report = Report.objects.exclude(state="resolved").filter(source=Source.USER).order_by("-created_at").first()
    at = report.created_at
    instants = [at + 6 * 60 * minute * share + delta for share in (0.8, 1) for delta in (-second, 0 * second, second)]
    instants += [timezone.now() + k * 13 * minute for k in range(-30, 30)]
    for now in instants:
        assert response_target_counts_tallied(Q(), scope=None, now=now) == response_target_counts(
            Report.objects.all(), now=now), now


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_existing_reports(member_factory):
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("reporting", "0024_report_teams")], [("reporting", "0025_dashboard_tallies")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        team = TeamFactory()
        cp = ChargePointFactory(owner=team, operator=team)
        for age in (0, 2, 40):
            _file(cp, age=age * DAY)
        services.report_create(charge_point=None, source=Source.SUPPORT, reason=Reason.CONVERSATION,
                               by=SupportUserFactory())
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        assert tallies.tallies_verify() == []
        figures = report_dashboard_figures(actor=member_factory(team, Role.ADMIN))
        assert figures["open_total"] == 3 and figures["per_day_total"] == 2
        assert figures["top_charge_points"][0]["count"] == 2
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
