"""Maintenance windows in the sweep: checks still evaluate, nothing is
filed, what would have been filed is recorded on the window; windows that
start and end while a problem lasts."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from reporting.catalogue import Reason
from reporting.health.sweep import health_sweep
from reporting.maintenance import maintenance_window_create
from reporting.models import Report, ReportState, SilencedDetection
from tests.factories import ChargePointFactory, SiteFactory, TeamFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def minutes(n):
    return NOW + timedelta(minutes=n)


def disconnected(**kwargs):
    return ChargePointFactory(state="disconnected", state_since=minutes(-30), **kwargs)


def window(target=None, *, starts=0, ends=60, team=None, **kwargs):
    target_kwargs = {}
    if target is not None:
        target_kwargs["site" if target._meta.model_name == "site" else "charge_point"] = target
        team = team or target.team if target._meta.model_name == "site" else team or target.owner
    return maintenance_window_create(by=None, team=team, reason="Replacing the meter", starts_at=minutes(starts),
                                     ends_at=minutes(ends) if ends is not None else None, **target_kwargs, **kwargs)


def test_in_a_window_nothing_is_filed_and_the_window_shows_what_would_have_been():
    cp = disconnected()
    other = disconnected()
    maintenance = window(cp)

    result = health_sweep(now=minutes(1))
    health_sweep(now=minutes(2))

    assert not Report.objects.filter(charge_point=cp).exists()
    assert Report.objects.filter(charge_point=other).count() == 1  # not covered
    silenced = SilencedDetection.objects.get()
    assert (silenced.window, silenced.charge_point, silenced.reason) == (maintenance, cp, Reason.DISCONNECTED)
    assert (silenced.first_seen_at, silenced.last_seen_at, silenced.detections) == (minutes(1), minutes(2), 2)
    assert result.as_dict()["silenced"] == 1


def test_a_site_window_covers_the_sites_charge_points_and_a_team_window_the_teams():
    site = SiteFactory()
    at_site = [disconnected(site=site) for _ in range(2)]
    elsewhere = disconnected(site=SiteFactory(team=site.team))
    window(site)
    health_sweep(now=minutes(1))
    assert set(Report.objects.values_list("charge_point", flat=True)) == {elsewhere.pk}

    operated = disconnected(operator=TeamFactory())
    window(team=operated.operator)
    health_sweep(now=minutes(2))
    assert not Report.objects.filter(charge_point=operated).exists()
    assert SilencedDetection.objects.filter(charge_point__in=[*at_site, operated]).count() == 3


def test_a_report_open_when_the_window_starts_stays_open():
    cp = disconnected()
    health_sweep(now=minutes(1))
    window(cp, starts=5)

    health_sweep(now=minutes(6))

    report = Report.objects.get(charge_point=cp)
    assert (report.state, report.occurrences) == (ReportState.OPEN, 1)
    assert not SilencedDetection.objects.exists()


def test_a_problem_that_lasts_past_the_end_of_the_window_is_filed_then():
    cp = disconnected()
    window(cp, starts=0, ends=10)
    health_sweep(now=minutes(9))
    assert not Report.objects.exists()

    health_sweep(now=minutes(10))  # the end is not inside

    assert Report.objects.get(charge_point=cp).state == ReportState.OPEN


def test_a_problem_that_clears_inside_the_window_and_comes_back_is_silenced():
    cp = disconnected()
    health_sweep(now=minutes(1))
    window(cp, starts=2, ends=60)
    cp.state, cp.state_since = "available", minutes(2)
    cp.save()
    health_sweep(now=minutes(3))  # resolved as usual
    cp.state, cp.state_since = "disconnected", minutes(4)
    cp.save()

    health_sweep(now=minutes(20))

    assert list(Report.objects.values_list("state", flat=True)) == [ReportState.RESOLVED]
    assert SilencedDetection.objects.get().charge_point == cp


def test_a_weekly_window_silences_only_during_its_hours():
    cp = disconnected()
    local = timezone.localtime(minutes(0))
    window(cp, starts=-60 * 24, ends=None, weekdays=str(local.weekday()),
           local_start=time(local.hour, local.minute), duration_minutes=30, time_zone=str(local.tzinfo))

    health_sweep(now=minutes(29))
    assert not Report.objects.exists()

    health_sweep(now=minutes(30))
    assert Report.objects.count() == 1
