import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from chargepoints.simulation import FleetSimulator


class Command(BaseCommand):
    help = (
        "Play a CSMS for the demo charge points: heartbeats, signal readings and charges, and now and "
        "then a lost connection, a fault, failed charges or a weak signal, then recovery. With `make run` "
        "the health checks file system reports for these and resolve them within minutes: it starts one "
        "problem of every kind at once, then random ones. Runs until stopped (Ctrl-C) unless --ticks is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=None,
                            help="Seconds between ticks (default 10 divided by --speed, at least 0.5).")
        parser.add_argument("--speed", type=float, default=None,
                            help="How many times faster than real life (default: the DEMO_SPEED setting, else 1).")
        parser.add_argument("--no-opening", dest="opening", action="store_false",
                            help="Do not start one problem of every kind on the first tick.")
        parser.add_argument("--ticks", type=int, default=0, help="Stop after this many ticks (default: never).")
        parser.add_argument("--limit", type=int, default=100, help="At most this many charge points (default 100).")
        parser.add_argument("--episodes-per-minute", type=float, default=0.5,
                            help="Problems started per minute across the fleet, on average (default 0.5).")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for a repeatable run.")
        parser.add_argument("--ocpp", metavar="URL", default="",
                            help="Send through the OCPP gateway at this URL (e.g. ws://127.0.0.1:9000) as real "
                            "OCPP 1.6J chargers; each demo charge point gets a new OCPP password.")
        parser.add_argument("--realtime", action="store_true",
                            help="Report every problem when it starts instead of a few minutes late; "
                            "reports then take over ten minutes to appear.")

    def handle(self, *args, interval, speed, opening, ticks, limit, episodes_per_minute, seed, realtime, ocpp,
               **options):
        speed = speed if speed is not None else float(getattr(settings, "DEMO_SPEED", 1))
        if speed <= 0:
            raise CommandError("--speed must be positive.")
        interval = interval if interval is not None else max(10 / speed, 0.5)
        if interval <= 0 or ticks < 0 or limit <= 0 or episodes_per_minute < 0:
            raise CommandError("--interval and --limit must be positive; --ticks and --episodes-per-minute not negative.")
        simulator = FleetSimulator.for_demo(limit=limit, seed=seed, realtime=realtime, speed=speed, opening=opening)
        simulator.episodes_per_minute = episodes_per_minute
        if not simulator.charge_points:
            raise CommandError("No demo charge points: run `python manage.py seed_demo` first.")
        link = None
        if ocpp:
            # The gateway sits above this app: reached through settings, not imported.
            link = import_string(settings.SIMULATOR_OCPP_LINK)(
                url=ocpp, ocpp_ids=[cp.ocpp_id for cp in simulator.charge_points])
            simulator.send = link
            simulator.late_disconnects = False
        via = f" through the OCPP gateway at {ocpp}" if ocpp else ""
        self.stdout.write(f"Simulating {len(simulator.charge_points)} charge points every {interval:g} s{via}"
                          f" at {speed:g} times real life.")
        done = 0
        try:
            while not ticks or done < ticks:
                simulator.tick(tick=timedelta(seconds=interval))
                for line in simulator.log:
                    self.stdout.write(line)
                simulator.log.clear()
                done += 1
                if not ticks or done < ticks:
                    time.sleep(interval)
        except KeyboardInterrupt:
            pass
        finally:
            if link is not None:
                link.close()
        self.stdout.write(f"Sent {simulator.sent} events.")
