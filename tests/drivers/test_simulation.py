"""drivers/simulation.py and `simulate_drivers`: the demo's drivers reach a
running web server through the real channels (the page's form with its CSRF
token, the app API with the platform key, Postmark's inbound webhook with the
secret), and nothing is written behind them."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiKey
from drivers.simulation import DriverSimulationError, demo_drivers_from_settings
from reporting.catalogue import Source
from reporting.demo import demo_platform_key, demo_tour, seed_demo
from reporting.models import Report, ReportMessage, ReportReporter

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings, tmp_path):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "demo:inbound-secret"}
    settings.VAR_DIR = tmp_path
    seed_demo()
    return demo_platform_key(key_file=tmp_path / "demo-platform-key")


def test_each_channel_files_through_the_running_server(live_server, demo):
    drivers = demo_drivers_from_settings(base_url=live_server.url, platform_key=demo, seed=4)
    before = set(Report.objects.values_list("pk", flat=True))

    for step in range(4):
        drivers.act(step)

    new = Report.objects.exclude(pk__in=before)
    web = ReportReporter.objects.filter(report__in=new, channel="web", api_key__isnull=True)
    app = ReportReporter.objects.filter(report__in=new, channel="app", api_key__is_platform=True)
    assert web.count() == 1 and app.count() == 1
    support = new.get(source=Source.SUPPORT)
    messages = list(support.messages.values_list("sender", "channel"))
    assert messages == [(ReportMessage.Sender.DRIVER, "email")] * 2
    assert support.charge_point is not None  # the e-mail named it
    assert len(drivers.log) == 4


def test_a_wrong_webhook_secret_is_refused_and_said(live_server, demo):
    drivers = demo_drivers_from_settings(base_url=live_server.url, platform_key=demo, seed=1)
    drivers.webhook_secret = "demo:wrong"

    with pytest.raises(DriverSimulationError, match="inbound webhook refused"):
        drivers.write_to_support(drivers.charge_points()[0])
    assert not Report.objects.filter(source=Source.SUPPORT, reporters__isnull=False).exists()


def test_the_command_runs_a_bounded_number_of_actions(live_server, demo, capsys):
    call_command("simulate_drivers", url=live_server.url, interval=0, actions=2, seed=3, platform_key=demo)

    out = capsys.readouterr().out
    assert "on the public page" in out and "in the app" in out


def test_the_command_says_when_the_key_is_missing(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("simulate_drivers", actions=1)


def test_the_platform_key_is_kept_in_the_file_and_replaced_when_lost(demo, tmp_path):
    key_file = tmp_path / "demo-platform-key"
    assert key_file.read_text().strip() == demo
    assert demo_platform_key(key_file=key_file) == demo  # a second run keeps it

    key_file.unlink()
    new = demo_platform_key(key_file=key_file)

    assert new != demo
    assert ApiKey.objects.filter(is_platform=True, revoked_at__isnull=True).count() == 1


def test_the_tour_names_every_login_and_page(demo):
    text = "\n".join(demo_tour(base_url="http://127.0.0.1:8000", platform_key=demo))

    for expected in ["support@example.com", "admin@voltway.example", "viewer@voltway.example",
                     "installer@voltway.example", "/r/", "/stickers/", "/api/docs/", demo,
                     "/admin/notifications/notification/", "demo-reports-2026"]:
        assert expected in text


def test_a_web_server_that_does_not_answer_is_a_simulation_error_not_a_crash(demo):
    from tests.gateway.test_command import free_port

    drivers = demo_drivers_from_settings(base_url=f"http://127.0.0.1:{free_port()}", platform_key=demo, seed=1)
    drivers.timeout = 2

    with pytest.raises(DriverSimulationError, match="Could not reach"):
        drivers.act(0)
