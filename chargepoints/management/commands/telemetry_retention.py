"""``manage.py telemetry_retention``: what the daily beat task does, by
hand (after changing a retention setting, or to see what it would keep).
Prints the partitions created and dropped and the rows deleted."""

from django.core.management.base import BaseCommand

from chargepoints.services import telemetry_retention_apply


class Command(BaseCommand):
    help = ("Create the coming telemetry partitions (PostgreSQL) and drop or delete the telemetry "
            "past its retention (TELEMETRY_RETENTION_DAYS, TELEMETRY_HISTORY_RETENTION_DAYS).")

    def handle(self, *args, **options):
        report = telemetry_retention_apply()
        for name in report.created:
            self.stdout.write(f"created {name}")
        for name in report.dropped:
            self.stdout.write(f"dropped {name}")
        for table, rows in sorted(report.deleted.items()):
            self.stdout.write(f"deleted {rows} rows from {table}")
        self.stdout.write(self.style.SUCCESS(
            f"{len(report.created)} partitions created, {len(report.dropped)} dropped, "
            f"{sum(report.deleted.values())} rows deleted."))
