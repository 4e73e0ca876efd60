from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from reporting.demo import DEMO_PASSWORD, demo_logins, demo_platform_key, seed_demo, seed_fleet


class Command(BaseCommand):
    help = "Load the demo teams, users, charge points and reports. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--charge-points",
            type=int,
            default=0,
            metavar="N",
            help="Also grow the demo fleet to N charge points (bulk inserts, with a progress bar).",
        )
        parser.add_argument(
            "--platform-key-file",
            default=None,
            metavar="PATH",
            help="Where the demo drivers' app key is kept (default: var/demo-platform-key, not in git).",
        )

    def handle(self, *args, charge_points: int, platform_key_file: str | None, **options):
        if charge_points < 0:
            raise CommandError("--charge-points must be zero or a positive number.")
        created = seed_demo()
        key_file = Path(platform_key_file) if platform_key_file else Path(settings.VAR_DIR) / "demo-platform-key"
        demo_platform_key(key_file=key_file)
        if any(created.values()):
            summary = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in created.items() if n)
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}."))
        else:
            self.stdout.write("Demo data already loaded; nothing to add.")

        if charge_points:
            with tqdm(total=charge_points, unit="cp", desc="Fleet", disable=options["verbosity"] == 0) as bar:
                from chargepoints.models import ChargePoint

                bar.update(min(ChargePoint.objects.filter(ocpp_id__startswith="FLEET-").count(), charge_points))
                added = seed_fleet(charge_points, progress=bar.update)
            self.stdout.write(self.style.SUCCESS(f"Fleet: added {added} charge points (target {charge_points})."))

        self.stdout.write("")
        self.stdout.write(f"Back-office: {settings.SITE_URL}/admin/ (support) and {settings.SITE_URL}/operator/ (teams)")
        self.stdout.write(f"Demo logins, all with the password {DEMO_PASSWORD!r}:")
        for login in demo_logins():
            self.stdout.write(f"  {login.email:<30} {login.where:<11} {login.what}")
        self.stdout.write(f"The demo drivers' app key (API docs: {settings.SITE_URL}/api/docs/) is in {key_file}.")
