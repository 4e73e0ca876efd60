"""`make run`'s demo, end to end, in a real browser: the web server, the
worker and beat, the OCPP gateway, the fleet simulator over OCPP, the demo
drivers and the welcome, started as the separate processes they are, at a
high DEMO_SPEED. Support and an operator admin log in with Chromium and,
within a bounded time, see every system reason, drivers' reports from the
public page and from the app, a support conversation by e-mail with the
driver's reply, and e-mails in English and Danish in the inbox; then every
system reason resolves by itself, the operator admin resolves a driver's
report and support resolves the conversation.

Needs PostgreSQL (the processes share the test database, which SQLite
would lock) and Chromium."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Max
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from drivers.simulation import REPLIES
from reporting.catalogue import Reason
from reporting.demo import DEMO_PASSWORD
from reporting.models import Report
from tests.gateway.test_command import free_port

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_REASONS = {str(reason.label) for reason in (Reason.DISCONNECTED, Reason.IN_ERROR, Reason.FAILED_CHARGES,
                                                   Reason.BAD_WIFI, Reason.BAD_CELL_SIGNAL)}
# On a quiet machine everything shows in about 90 s and resolves in about
# two minutes; a loaded 2-core machine gets twice that and some (a run in
# the full suite once needed more than four minutes for the last reason).
APPEAR_SECONDS = 360
RESOLVE_SECONDS = 180
POLL_SECONDS = 4

# serialized_rollback: an earlier transactional test flushed the tables; the
# data the migrations seeded (beat schedules, settings rows) comes back first.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Demo:
    """The demo's processes, as `make run` starts them (Procfile)."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.web, ocpp = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.web}"
        env = {k: v for k, v in os.environ.items()
               if k not in {"CELERY_BROKER_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE"}}
        env.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": _database_url(),
                    "VAR_DIR": str(tmp_path), "DEMO_SPEED": "30", "DEMO_PLATFORM_KEY": "",
                    "SITE_URL": self.url, "PYTHONUNBUFFERED": "1"})
        self.env = env
        manage = [sys.executable, "manage.py"]
        self.commands = {
            "web": [*manage, "runserver", "--noreload", f"127.0.0.1:{self.web}"],
            "worker": [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                       "--queues=celery,health,email,webhooks", "--loglevel=WARNING"],
            "beat": [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING",
                     "--schedule", str(tmp_path / "beat-schedule")],
            "gateway": [*manage, "ocpp_gateway", "--host", "127.0.0.1", "--port", str(ocpp)],
            "simulator": [*manage, "simulate_fleet", "--ocpp", f"ws://127.0.0.1:{ocpp}", "--interval", "1"],
            # A fixed seed: the same drivers on the same charge points every run.
            "drivers": [*manage, "simulate_drivers", "--url", self.url, "--interval", "3", "--seed", "2026"],
            "welcome": [*manage, "demo_welcome", "--url", self.url, "--exit"],
        }
        self.processes: dict[str, subprocess.Popen] = {}

    def seed(self) -> str:
        """`make setup`'s seed_demo, on the development settings (their password hasher); the app key."""
        subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=self.env, check=True,
                       capture_output=True, timeout=300)
        return (self.tmp / "demo-platform-key").read_text().strip()

    def start(self) -> None:
        for name, command in self.commands.items():
            log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
            self.processes[name] = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                                    stderr=subprocess.STDOUT, start_new_session=True)
            if name == "gateway":
                time.sleep(2)  # the simulator connects to it at once

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)[-1500:]}" for name in self.commands)

    def assert_running(self) -> None:
        for name, process in self.processes.items():
            if name != "welcome":
                assert process.poll() is None, f"{name} stopped:\n" + self.log(name)[-3000:]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def log_in(page, url: str, prefix: str, email: str) -> None:
    page.goto(f"{url}/{prefix}/login/?next=/{prefix}/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_selector("#dashboard")


def rows(page, url: str, columns: list[str]) -> list[dict]:
    """A changelist's rows: the given columns' texts (Django's field-<name>
    cells), without the grey second line some cells carry (the reason's
    source, the charge point's site and teams)."""
    page.goto(url)
    page.wait_for_selector("#changelist")
    return page.eval_on_selector_all(
        "#result_list tbody tr",
        "(trs, cols) => trs.map(tr => Object.fromEntries(cols.map(c => {"
        "  const cell = tr.querySelector('.field-' + c);"
        "  if (!cell) return [c, ''];"
        "  const copy = cell.cloneNode(true);"
        "  copy.querySelectorAll('.bo-sub').forEach(sub => sub.remove());"
        "  return [c, copy.textContent.trim()];"
        "})))",
        columns,
    )


def new_reports(page, url: str, seeded: int) -> list[dict]:
    """The reports of a filtered report list filed since the demo started (ids above the seeded ones)."""
    found = rows(page, url, ["id", "reason_col", "state_col", "charge_point_col"])
    return [row for row in found if row["id"].strip().isdigit() and int(row["id"]) > seeded]


# What the last checks saw, for the failure message.
seen: dict[str, object] = {}


def wait_until(check, *, seconds: float, demo: Demo, what: str):
    """Call ``check`` every few seconds until it returns something true; fail with the logs at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        demo.assert_running()
        assert time.monotonic() < deadline, f"Not seen within {seconds} s: {what} (seen: {seen})\n{demo.logs()}"
        time.sleep(POLL_SECONDS)


def test_the_demo_in_a_browser(require_postgres, browser, tmp_path):
    demo = Demo(tmp_path)
    key = demo.seed()
    seeded = Report.objects.aggregate(last=Max("id"))["last"]
    # The sweep every 10 s instead of every minute (migration 0003's schedule).
    every_10s, _ = IntervalSchedule.objects.get_or_create(every=10, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(name="Health sweep", defaults={
        "task": "reporting.health_sweep", "interval": every_10s, "enabled": True})
    connection.close()  # the processes own the database from here

    contexts = []
    try:
        demo.start()
        # The welcome prints, once, where to go and with which login.
        demo.processes["welcome"].wait(150)
        welcome = demo.log("welcome")
        for expected in ["support@example.com", "admin@voltway.example", "viewer@voltway.example",
                         "installer@voltway.example", f"{demo.url}/r/", "/stickers/", f"{demo.url}/api/docs/",
                         key, f"{demo.url}/admin/notifications/notification/", DEMO_PASSWORD]:
            assert expected in welcome, f"{expected!r} not in the welcome:\n{welcome}"
        assert welcome.count("The demo is running") == 1

        support, operator = (browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                             for _ in range(2))
        contexts = [support.context, operator.context]
        for page in (support, operator):
            page.set_default_timeout(60_000)  # a loaded machine's runserver
        log_in(support, demo.url, "admin", "support@example.com")
        log_in(operator, demo.url, "operator", "admin@voltway.example")
        assert "Start here." in support.inner_text("#start-here")
        assert "assign each to the person who should act" in operator.inner_text("#start-here")
        # The welcome's links: the driver's page, and (logged in) the sticker sheet.
        driver_page, sheet = (re.search(rf"{re.escape(demo.url)}\S*{part}\S*", welcome).group(0)
                              for part in ("/r/", "/stickers/"))
        operator.goto(sheet)
        assert operator.locator(".sticker img").count() == 1
        support.goto(driver_page)
        assert support.locator("input[name=reason]").count() > 1  # the driver's form

        reports = f"{demo.url}/admin/reporting/report/"

        # Every system reason, filed by the health checks from what the chargers said over OCPP.
        def system_reasons():
            # state=all: the list opens on the unresolved reports, and the demo's
            # system reports resolve by themselves within a minute or so.
            found = {row["reason_col"]
                     for row in new_reports(support, f"{reports}?source__exact=system&state=all", seeded)}
            seen["system reasons"] = sorted(found)
            return found >= SYSTEM_REASONS

        # Drivers' reports from the public page and from the app.
        def driver_reports():
            found = new_reports(support, f"{reports}?source__exact=user", seeded)
            channels = set()
            for row in found[:6]:
                support.goto(f"{reports}{row['id'].strip()}/change/")
                # The report page's "Drivers' filings" row (unfold's form rows carry no field-<name> class).
                filings = support.locator(".form-row", has_text="Drivers' filings").first.inner_text()
                channels |= {c for c in ("on the public page", "in the drivers' app") if c in filings}
            return channels == {"on the public page", "in the drivers' app"}

        # A support conversation by e-mail, with the driver's reply.
        def conversation():
            for row in new_reports(support, f"{reports}?reason__exact=conversation", seeded)[:3]:  # the newest
                support.goto(f"{reports}{row['id'].strip()}/change/")
                text = support.inner_text("#conversation")
                if any(reply in text for reply in REPLIES):
                    return row["id"].strip()
            return None

        # E-mails about the new reports, sent, in English and in Danish, in the inbox.
        def inbox():
            languages = set()
            for language in ("en", "da"):
                found = rows(support, f"{demo.url}/admin/notifications/notification/?status__exact=sent"
                                      f"&language__exact={language}", ["report_link", "subject"])
                if any(int(row["report_link"].strip("# ")) > seeded for row in found if row["report_link"]):
                    languages.add(language)
            return languages == {"en", "da"}

        wait_until(system_reasons, seconds=APPEAR_SECONDS, demo=demo, what="every system reason")
        wait_until(driver_reports, seconds=60, demo=demo, what="drivers' reports from the page and the app")
        conversation_id = wait_until(conversation, seconds=60, demo=demo,
                                     what="a support conversation with the driver's reply")
        wait_until(inbox, seconds=60, demo=demo, what="e-mails in English and Danish in the inbox")
        support.goto(f"{demo.url}/admin/notifications/notification/?language__exact=da&status__exact=sent"
                     "&kind__exact=created")
        support.click("#result_list tbody tr >> nth=0 >> th a")
        assert "Åbn rapporten" in support.inner_text("#content-main")  # "Open the report", in Danish

        # The operator admin sees its own team's new reports first on its dashboard ...
        operator.goto(f"{demo.url}/operator/")
        newest = operator.inner_text("#newest-reports")
        assert any(int(number) > seeded for number in re.findall(r"#(\d+)", newest)), newest
        assert not re.search(r"Greenpark|Aarhus|Odense", newest), newest  # other teams' charge points

        # ... and resolves a driver's report on one of its charge points.
        driver_report = wait_until(
            lambda: new_reports(operator, f"{demo.url}/operator/reporting/report/?source__exact=user"
                                          "&state=unresolved", seeded),
            seconds=60, demo=demo, what="a driver's report on a Voltway charge point")[0]
        operator.goto(f"{demo.url}/operator/reporting/report/{driver_report['id'].strip()}/change/")
        operator.click("#report-actions >> text=Resolve…")
        operator.fill("textarea[name=note]", "Cleared the bay; the charger works.")
        operator.click("input[value='Yes, resolve']")
        operator.wait_for_selector("#timeline >> text=Cleared the bay")
        assert "Cleared the bay" in operator.inner_text("#timeline")

        # Support resolves the conversation.
        support.goto(f"{reports}{conversation_id}/change/")
        support.click("#report-actions >> text=Resolve…")
        support.fill("textarea[name=note]", "The driver is charging again.")
        support.click("input[value='Yes, resolve']")
        support.wait_for_selector("#timeline >> text=The driver is charging again.")

        # Every system reason resolves by itself when the charger recovers.
        def resolved():
            found = new_reports(support, f"{reports}?source__exact=system&state=resolved", seeded)
            return {row["reason_col"] for row in found} >= SYSTEM_REASONS

        wait_until(resolved, seconds=RESOLVE_SECONDS, demo=demo, what="every system reason resolved")
        for kind, url in [("driver's report", f"{reports}?source__exact=user&state=resolved"),
                          ("conversation", f"{reports}?reason__exact=conversation&state=resolved")]:
            assert new_reports(support, url, seeded), f"no resolved {kind} in the support list"
    finally:
        for context in contexts:
            context.close()
        demo.stop()
