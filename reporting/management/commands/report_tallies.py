"""Rebuild or check the dashboards' tallies (reporting/tallies.py).

    manage.py report_tallies --check     # compare with the reports; fails on a difference
    manage.py report_tallies --rebuild   # recompute them from the reports
    manage.py report_tallies             # fold the pending changes (what beat does every minute)
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from reporting.tallies import TALLIES, tallies_fold, tallies_rebuild, tallies_verify


class Command(BaseCommand):
    help = "Fold, rebuild (--rebuild) or check (--check) the dashboards' report tallies."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true",
                            help="Recompute every tally from the reports (writers of reports wait meanwhile).")
        parser.add_argument("--check", action="store_true",
                            help="Compare the tallies with the reports and list any difference.")

    def handle(self, *args, rebuild: bool, check: bool, **options):
        if rebuild:
            with tqdm(total=len(TALLIES), unit="table", desc="Tallies", disable=options["verbosity"] == 0) as bar:
                tallies_rebuild(progress=lambda _table: bar.update(1))
            self.stdout.write("Rebuilt the tallies from the reports.")
        if check:
            differences = tallies_verify()
            for line in differences:
                self.stderr.write(line)
            if differences:
                raise CommandError(f"{len(differences)} tally rows differ from the reports; "
                                   "run manage.py report_tallies --rebuild.")
            self.stdout.write("The tallies agree with the reports.")
        if not rebuild and not check:
            self.stdout.write(f"Folded {tallies_fold()} changes into the tallies.")
