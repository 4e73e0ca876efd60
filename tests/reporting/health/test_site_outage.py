"""Site outages: at least N % of a site's charge points, and at least 2,
disconnected together file one report about the site and no per charge
point disconnect reports there while it is open."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from reporting import services
from reporting.catalogue import Party, Reason
from reporting.health.sweep import health_sweep
from reporting.maintenance import maintenance_window_create
from reporting.models import Report, ReportState
from tests.factories import ChargePointFactory, SiteFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def site_with(down, up):
    site = SiteFactory()
    cps = [ChargePointFactory(site=site, state="disconnected", state_since=NOW - timedelta(minutes=30))
           for _ in range(down)]
    cps += [ChargePointFactory(site=site) for _ in range(up)]
    return site, cps


def site_reports():
    return Report.objects.filter(reason=Reason.SITE_OFFLINE)


def test_80_percent_of_a_site_down_files_one_site_report_and_no_charge_point_reports():
    site, cps = site_with(down=4, up=1)  # exactly 80 %

    result = health_sweep(now=NOW)

    report = site_reports().get()
    assert (report.site, report.charge_point, report.state) == (site, None, ReportState.OPEN)
    assert report.assigned_party == Party.OPERATOR
    assert "4 of the site's 5 charge points" in report.description
    assert not Report.objects.filter(reason=Reason.DISCONNECTED).exists()
    assert result.as_dict()["filed"] == 1
    assert str(report).endswith(f"site {site.name}")


def test_just_under_the_percentage_files_per_charge_point_reports():
    site_with(down=3, up=1)   # 75 %
    health_sweep(now=NOW)
    assert not site_reports().exists()
    assert Report.objects.filter(reason=Reason.DISCONNECTED).count() == 3


def test_one_charge_point_is_never_a_site_outage():
    site_with(down=1, up=0)   # 100 % but only one
    health_sweep(now=NOW)
    assert not site_reports().exists()
    assert Report.objects.filter(reason=Reason.DISCONNECTED).count() == 1

    site_with(down=2, up=0)   # two is enough
    health_sweep(now=NOW + timedelta(minutes=1))
    assert site_reports().count() == 1


def test_the_percentage_is_a_setting(settings):
    settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS,
                              "site_outage": {"enabled": True, "percent": 50, "min_charge_points": 2}}
    site_with(down=2, up=2)
    health_sweep(now=NOW)
    assert site_reports().count() == 1


def test_a_repeat_detection_leaves_the_site_report_alone_and_a_new_outage_counts_an_episode(settings):
    settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "auto_resolve": False}
    _site, cps = site_with(down=2, up=0)
    health_sweep(now=NOW)
    health_sweep(now=NOW + timedelta(minutes=1))
    report = site_reports().get()
    assert (report.occurrences, report.last_seen_at) == (1, NOW)

    cps[0].state, cps[0].state_since = "available", NOW + timedelta(minutes=2)
    cps[0].save()
    health_sweep(now=NOW + timedelta(minutes=3))  # over: kept open (auto-resolve is off)
    cps[0].state, cps[0].state_since = "disconnected", NOW + timedelta(minutes=4)
    cps[0].save()
    health_sweep(now=NOW + timedelta(minutes=15))  # back

    report.refresh_from_db()
    assert (report.occurrences, report.last_seen_at, report.condition_cleared_at) == (
        2, NOW + timedelta(minutes=15), None)


def test_when_the_site_comes_back_the_report_resolves_and_charge_points_still_down_file_their_own():
    site, cps = site_with(down=4, up=0)
    health_sweep(now=NOW)
    for cp in cps[:3]:
        cp.state, cp.state_since = "available", NOW + timedelta(minutes=1)
        cp.save()

    health_sweep(now=NOW + timedelta(minutes=2))

    assert site_reports().get().state == ReportState.RESOLVED
    assert list(Report.objects.filter(reason=Reason.DISCONNECTED).values_list("charge_point", flat=True)) == [
        cps[3].pk]


def test_a_charge_point_report_open_before_the_outage_stays_open():
    site, cps = site_with(down=1, up=1)
    health_sweep(now=NOW)
    cps[1].state, cps[1].state_since = "disconnected", NOW - timedelta(minutes=20)
    cps[1].save()

    health_sweep(now=NOW + timedelta(minutes=1))

    assert site_reports().count() == 1
    assert list(Report.objects.filter(reason=Reason.DISCONNECTED).values_list("charge_point", flat=True)) == [
        cps[0].pk]


def test_a_site_in_a_maintenance_window_files_no_site_report():
    site, cps = site_with(down=2, up=0)
    maintenance_window_create(by=None, team=site.team, site=site, reason="Works", starts_at=NOW - timedelta(hours=1),
                              ends_at=NOW + timedelta(hours=1))
    health_sweep(now=NOW)
    assert not Report.objects.exists()


def test_the_sites_team_sees_and_resolves_the_site_report_other_teams_do_not(member_factory):
    site, cps = site_with(down=2, up=0)
    health_sweep(now=NOW)
    report = site_reports().get()
    installer = member_factory(site.team, Role.INSTALLER)
    stranger = member_factory(SiteFactory().team, Role.OWNER)

    assert list(Report.objects.for_user(installer)) == [report]
    assert list(Report.objects.for_user(stranger)) == []
    with pytest.raises(services.NotPermitted):
        services.report_resolve(report=report, by=stranger)
    services.report_resolve(report=report, by=installer, note="Power is back")
    report.refresh_from_db()
    assert report.state == ReportState.RESOLVED


def test_the_site_report_reads_sensibly_in_the_admin_and_the_api(client, member_factory):
    from rest_framework.test import APIClient

    from accounts.services import api_key_create
    from tests.factories import SupportUserFactory

    site, cps = site_with(down=2, up=0)
    health_sweep(now=NOW)
    report = site_reports().get()
    admin = member_factory(site.team, Role.ADMIN)
    client.force_login(admin)

    listing = client.get("/operator/reporting/report/").content.decode()
    assert "the whole site" in listing and site.name in listing
    page = client.get(f"/operator/reporting/report/{report.pk}/change/").content.decode()
    assert 'id="about-site"' in page and site.name in page and "Resolve…" in page

    _key, raw = api_key_create(team=site.team, name="CSMS", role=Role.VIEWER, by=SupportUserFactory())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = api.get(f"/api/v1/reports/{report.pk}/").json()
    assert (body["charge_point"], body["site"]["id"], body["reason"], body["reason_label"]) == (
        None, site.pk, "site_offline", "Charging site offline")
    for query in (f"site={site.pk}", f"team={site.team_id}"):
        assert [r["id"] for r in api.get(f"/api/v1/reports/?{query}").json()["results"]] == [report.pk]
    filtered = client.get(f"/operator/reporting/report/?site={site.pk}").content.decode()
    assert f"/operator/reporting/report/{report.pk}/change/" in filtered


def test_reopening_a_site_report_while_another_is_open_is_a_conflict(support_user):
    site, cps = site_with(down=2, up=0)
    health_sweep(now=NOW)
    first = site_reports().get()
    services.report_resolve(report=first, by=support_user)
    health_sweep(now=NOW + timedelta(minutes=1))  # still down: a new site report

    with pytest.raises(services.OpenReportExists):
        services.report_reopen(report=first, by=support_user)
    assert site_reports().filter(state=ReportState.OPEN).count() == 1
