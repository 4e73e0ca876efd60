"""The seed_demo command (reporting/management/commands/seed_demo.py)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from accounts.models import Membership, Role, Team, User
from chargepoints.models import ChargePoint, ChargePointState, Site
from reporting.catalogue import Source
from reporting.models import Report, ReportEvent, ReportMessage, ReportState

pytestmark = pytest.mark.django_db

MODELS = [Team, User, Membership, Site, ChargePoint, Report, ReportEvent, ReportMessage]


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """seed_demo keeps the demo app key under VAR_DIR: a test's own, never the
    checkout's var/, whose key belongs to the developer's `make run`."""
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_seed_demo_keeps_the_app_key_in_var_dir_and_keeps_it_on_a_second_run(var_dir):
    call_command("seed_demo", stdout=StringIO())
    key = (var_dir / "demo-platform-key").read_text()
    call_command("seed_demo", stdout=StringIO())
    assert key.startswith("cpr_") and (var_dir / "demo-platform-key").read_text() == key


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_twice_leaves_the_same_counts():
    call_command("seed_demo", stdout=StringIO())
    first = counts()
    out = StringIO()

    call_command("seed_demo", stdout=out)

    assert counts() == first
    assert "nothing to add" in out.getvalue()


def test_seed_demo_covers_every_state_source_and_role_and_prints_the_logins():
    out = StringIO()
    call_command("seed_demo", stdout=out)

    assert set(ChargePoint.objects.values_list("state", flat=True)) >= {
        ChargePointState.AVAILABLE,
        ChargePointState.BUSY,
        ChargePointState.ERROR,
        ChargePointState.DISCONNECTED,
        ChargePointState.PASSIVE,
    }
    assert set(Report.objects.values_list("source", flat=True)) == set(Source.values)
    assert set(Report.objects.values_list("state", flat=True)) == set(ReportState.values)
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    assert Team.objects.filter(country="DK").exists()
    # owner-only and operator-only teams
    assert ChargePoint.objects.exclude(owner=F("operator")).exists()
    assert User.objects.get(email="support@example.com").is_support
    text = out.getvalue()
    assert "support@example.com" in text and "demo-reports-2026" in text and "/operator/" in text


def test_seed_demo_grows_a_fleet_to_the_requested_size_and_no_further():
    call_command("seed_demo", "--charge-points", "250", stdout=StringIO(), verbosity=0)
    fleet = ChargePoint.objects.filter(ocpp_id__startswith="FLEET-")
    assert fleet.count() == 250

    call_command("seed_demo", "--charge-points", "300", stdout=StringIO(), verbosity=0)
    call_command("seed_demo", "--charge-points", "100", stdout=StringIO(), verbosity=0)
    assert fleet.count() == 300


def test_negative_fleet_size_is_a_clear_error():
    with pytest.raises(CommandError, match="zero or a positive number"):
        call_command("seed_demo", "--charge-points", "-5", stdout=StringIO())
