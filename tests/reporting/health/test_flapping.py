"""Flapping: a charge point that keeps coming and going keeps one report
open, counting episodes, until it has been stable for the hold-down time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reporting.health.sweep import health_sweep
from reporting.models import EventKind, HealthFlip, Report, ReportState
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def flapping(settings):
    def configure(flips, window_minutes=60, hold_down_minutes=30):
        settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "flapping": {
            "flips": flips, "window_minutes": window_minutes, "hold_down_minutes": hold_down_minutes}}
    return configure


class Clock:
    """Drives one charge point down and up, a sweep at every step."""

    def __init__(self, cp):
        self.cp, self.minute = cp, 0

    def sweep(self, minutes=1):
        self.minute += minutes
        return health_sweep(now=NOW + timedelta(minutes=self.minute))

    def down(self):
        # Disconnected long enough to be detected at the next sweep.
        self.cp.state, self.cp.state_since = "disconnected", NOW + timedelta(minutes=self.minute - 20)
        self.cp.save()
        return self.sweep()

    def up(self):
        self.cp.state, self.cp.state_since = "available", NOW + timedelta(minutes=self.minute)
        self.cp.save()
        return self.sweep()


def reports(cp):
    return list(Report.objects.filter(charge_point=cp).order_by("id"))


def test_k_changes_are_not_flapping_yet_one_more_is(flapping):
    flapping(flips=3)
    clock = Clock(ChargePointFactory())
    clock.down()   # 1: filed
    clock.up()     # 2: resolved
    clock.down()   # 3: filed again, 3 changes: not more than 3
    assert [r.state for r in reports(clock.cp)] == [ReportState.RESOLVED, ReportState.OPEN]
    assert not reports(clock.cp)[1].flapping

    result = clock.up()  # 4 changes: more than 3, so the report stays open

    second = reports(clock.cp)[1]
    assert second.state == ReportState.OPEN and second.flapping
    assert result.as_dict()["flapping"] == 1 and result.as_dict()["resolved"] == 0
    assert "Flapping" in second.events.filter(kind=EventKind.COMMENT).get().note


def test_a_report_filed_after_more_than_k_changes_is_flapping_from_the_start(flapping):
    flapping(flips=2)
    clock = Clock(ChargePointFactory())
    clock.down()
    clock.up()
    clock.down()  # the third change

    assert reports(clock.cp)[-1].flapping


def test_a_flapping_report_counts_episodes_not_sweeps_and_stays_quiet(flapping):
    flapping(flips=2)
    clock = Clock(ChargePointFactory())
    clock.down()
    clock.up()
    clock.down()  # flapping report, episode 2 in the window
    report = reports(clock.cp)[-1]
    assert report.occurrences == 2
    clock.sweep()
    clock.sweep()  # still down: the same episode
    report.refresh_from_db()
    assert report.occurrences == 2

    clock.up()
    clock.down()  # episode 3
    clock.sweep()

    report.refresh_from_db()
    assert (report.state, report.occurrences) == (ReportState.OPEN, 3)
    assert len(reports(clock.cp)) == 2
    # No "condition cleared" / "detected again" rows for each episode.
    assert not report.events.filter(kind__in=[EventKind.RECURRED, EventKind.CONDITION_CLEARED]).exists()


def test_a_flapping_report_resolves_only_after_the_hold_down(flapping):
    flapping(flips=2, hold_down_minutes=30)
    clock = Clock(ChargePointFactory())
    clock.down()
    clock.up()
    clock.down()
    clock.up()  # cleared at this minute
    report = reports(clock.cp)[-1]
    cleared_at = clock.minute

    clock.sweep(29 - (clock.minute - cleared_at))  # 29 minutes stable
    report.refresh_from_db()
    assert report.state == ReportState.OPEN

    clock.sweep(1)  # 30 minutes stable
    report.refresh_from_db()
    assert report.state == ReportState.RESOLVED
    assert "Stable for 30 minutes" in report.events.get(kind=EventKind.RESOLVED).note


def test_changes_older_than_the_window_do_not_count(flapping):
    flapping(flips=2, window_minutes=10)
    clock = Clock(ChargePointFactory())
    clock.down()
    clock.up()
    clock.sweep(15)  # the two changes fall out of the window and are deleted

    clock.down()

    assert not reports(clock.cp)[-1].flapping
    assert HealthFlip.objects.count() == 1


def test_the_report_page_and_the_api_say_it_is_flapping(flapping, client, support_user):
    from rest_framework.test import APIClient

    flapping(flips=2)
    clock = Clock(ChargePointFactory())
    clock.down()
    clock.up()
    clock.down()
    report = reports(clock.cp)[-1]
    client.force_login(support_user)

    page = client.get(f"/admin/reporting/report/{report.pk}/change/").content.decode()
    assert 'id="flapping"' in page and "2 episodes" in page

    api = APIClient()
    api.force_authenticate(support_user)
    assert api.get(f"/api/v1/reports/{report.pk}/").json()["flapping"] is True
