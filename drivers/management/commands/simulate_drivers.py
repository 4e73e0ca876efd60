import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from drivers.simulation import DriverSimulationError, demo_drivers_from_settings


class Command(BaseCommand):
    help = (
        "Play the demo's drivers against the running web server: now and then a report on the public page "
        "(its form, with the CSRF token), one from the drivers' app (the demo platform key), an e-mail to "
        "support through Postmark's inbound webhook, and the driver's reply. Runs until stopped (Ctrl-C) "
        "unless --actions is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default=settings.SITE_URL, help="The web server (default: SITE_URL).")
        parser.add_argument("--interval", type=float, default=None,
                            help="Seconds between two drivers' actions (default 150 divided by DEMO_SPEED).")
        parser.add_argument("--actions", type=int, default=0, help="Stop after this many actions (default: never).")
        parser.add_argument("--platform-key", default="",
                            help="The drivers' app key (default: DEMO_PLATFORM_KEY, else var/demo-platform-key).")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for a repeatable run.")
        parser.add_argument("--wait", type=float, default=120,
                            help="Seconds to wait for the web server to answer (default 120).")

    def handle(self, *args, url, interval, actions, platform_key, seed, wait, **options):
        speed = float(getattr(settings, "DEMO_SPEED", 1))
        interval = interval if interval is not None else 150 / speed
        if interval < 0 or actions < 0:
            raise CommandError("--interval and --actions must not be negative.")
        platform_key = platform_key or getattr(settings, "DEMO_PLATFORM_KEY", "") or self._key_from_file()
        drivers = demo_drivers_from_settings(base_url=url, platform_key=platform_key, seed=seed)
        if not drivers.webhook_secret:
            raise CommandError("Set ANYMAIL_WEBHOOK_SECRET: the inbound e-mail webhook refuses mail without it.")
        try:
            drivers.wait_for_server(seconds=wait)
            self.stdout.write(f"Demo drivers at {url}: an action every {interval:g} s.")
            self.stdout.flush()
            done = 0
            while not actions or done < actions:
                try:
                    drivers.act(done)
                except DriverSimulationError as error:
                    if actions:  # a bounded run (tests, by hand) says so at once
                        raise CommandError(str(error)) from error
                    self.stderr.write(f"Demo driver: {error}")
                for line in drivers.log:
                    self.stdout.write(line)
                drivers.log.clear()
                self.stdout.flush()
                done += 1
                if not actions or done < actions:
                    time.sleep(interval)
        except DriverSimulationError as error:
            raise CommandError(str(error)) from error
        except KeyboardInterrupt:
            pass

    @staticmethod
    def _key_from_file() -> str:
        key_file = Path(settings.VAR_DIR) / "demo-platform-key"
        if not key_file.exists():
            raise CommandError(f"No drivers' app key in {key_file}: run `python manage.py seed_demo` first.")
        return key_file.read_text().strip()
