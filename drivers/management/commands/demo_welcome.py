import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from drivers.simulation import DemoDrivers, DriverSimulationError
from reporting.demo import demo_tour


class Command(BaseCommand):
    help = (
        "Once the web server answers, print the demo's addresses and logins (support, an operator admin, "
        "a viewer, an installer, a driver's page and its QR sticker, the API docs with the demo key, the "
        "inbox); then wait until stopped, so that `make run` keeps running (--exit to return)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default=settings.SITE_URL, help="The web server (default: SITE_URL).")
        parser.add_argument("--wait", type=float, default=120, help="Seconds to wait for it (default 120).")
        parser.add_argument("--exit", action="store_true", help="Return after printing.")

    def handle(self, *args, url, wait, exit, **options):
        url = url.rstrip("/")
        try:
            DemoDrivers(base_url=url, platform_key="", webhook_secret="", support_address="").wait_for_server(
                seconds=wait)
        except DriverSimulationError as error:
            raise CommandError(str(error)) from error
        key_file = Path(settings.VAR_DIR) / "demo-platform-key"
        key = getattr(settings, "DEMO_PLATFORM_KEY", "") or (key_file.read_text().strip() if key_file.exists() else "")
        self.stdout.write("\n".join(demo_tour(base_url=url, platform_key=key)))
        self.stdout.flush()
        try:
            while not exit:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
