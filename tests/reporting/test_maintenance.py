"""reporting/maintenance.py: the rules of maintenance windows."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog, Role
from core.errors import Invalid, NotAllowed
from reporting.maintenance import (
    maintenance_window_create,
    maintenance_window_is_active,
    maintenance_window_update,
    maintenance_windows_active,
)
from reporting.models import MaintenanceWindow
from tests.factories import ChargePointFactory, SiteFactory, TeamFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def test_an_installer_may_not_create_a_window_an_admin_may(member_factory, team):
    installer = member_factory(team, Role.INSTALLER)
    with pytest.raises(NotAllowed):
        maintenance_window_create(by=installer, team=team, reason="x", starts_at=NOW, ends_at=NOW + timedelta(hours=1))
    admin = member_factory(team, Role.ADMIN)
    window = maintenance_window_create(by=admin, team=team, reason="x", starts_at=NOW,
                                       ends_at=NOW + timedelta(hours=1))
    assert window.created_by == admin


def test_an_operating_teams_admin_may_silence_a_charge_point_it_operates(member_factory):
    cp = ChargePointFactory(operator=TeamFactory())
    admin = member_factory(cp.operator, Role.ADMIN)
    window = maintenance_window_create(by=admin, team=cp.operator, charge_point=cp, reason="Swap",
                                       starts_at=NOW, ends_at=NOW + timedelta(hours=1))
    assert window.charge_point == cp


def test_a_site_of_another_team_is_refused():
    with pytest.raises(Invalid) as refusal:
        maintenance_window_create(by=None, team=TeamFactory(), site=SiteFactory(), reason="x", starts_at=NOW,
                                  ends_at=NOW + timedelta(hours=1))
    assert refusal.value.field == "site"
    assert not MaintenanceWindow.objects.exists()


def test_a_change_is_validated_and_audited_with_its_diff(team):
    window = maintenance_window_create(by=None, team=team, reason="x", starts_at=NOW, ends_at=NOW + timedelta(hours=1))
    with pytest.raises(Invalid):
        maintenance_window_update(window=window, by=None, ends_at=NOW - timedelta(hours=1))
    maintenance_window_update(window=window, by=None, reason="y")
    row = AuditLog.objects.get(object_type="reporting.maintenancewindow", action="update")
    assert row.changes == {"reason": {"before": "x", "after": "y"}}
    window.refresh_from_db()
    assert (window.reason, window.ends_at) == ("y", NOW + timedelta(hours=1))


def test_a_weekly_window_runs_past_midnight_in_its_time_zone(team):
    window = maintenance_window_create(
        by=None, team=team, reason="Nightly", starts_at=datetime(2026, 1, 1, tzinfo=UTC),
        weekdays="6", local_start=time(23, 0), duration_minutes=120, time_zone="Europe/Copenhagen")
    # Sunday 2026-03-01 23:30 in Copenhagen is 22:30 UTC; Monday 00:30 is 23:30 UTC.
    assert maintenance_window_is_active(window, datetime(2026, 3, 1, 22, 30, tzinfo=UTC))
    assert maintenance_window_is_active(window, datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    assert not maintenance_window_is_active(window, datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    assert not maintenance_window_is_active(window, datetime(2026, 3, 1, 21, 59, tzinfo=UTC))
    active = maintenance_windows_active(datetime(2026, 3, 1, 22, 30, tzinfo=UTC))
    assert active.by_team == {team.pk: window.pk}
