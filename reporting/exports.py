"""The reports list as CSV: the rows a back-office list shows, streamed.

The caller hands over the list's own queryset (filters, search and the
user's team scope already applied); the rows are read in chunks with
``iterator`` and written one line at a time, so a million reports never sit
in memory. A driver's name, e-mail address and phone number are written only
where ``driver_contact_visible`` allows it for that report and that person
(support; installers and up of the report's teams while it is open), masked
otherwise. Every text cell that a spreadsheet would read as a formula is
prefixed with a quote (CSV injection).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.timesince import timesince

from accounts.permissions import person_label

from .catalogue import Party, Reason, Source
from .contact_visibility import driver_contact_visible
from .models import ReportState

CHUNK_SIZE = 2000
MASKED = "(hidden)"
HEADER = [
    "id", "created", "charge point", "ocpp id", "site", "owner", "operator", "source", "reason", "state",
    "assigned party", "assigned person", "age", "occurrences", "resolved at",
    "driver name", "driver e-mail", "driver phone",
]
# A cell starting with one of these is a formula to Excel, LibreOffice and
# Google Sheets (tab and carriage return too, per OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A signed number (a phone number such as +45 12 34 56 78) runs nothing: kept as it is.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9 ]*")

_REASONS = {value: str(label) for value, label in Reason.choices}
_SOURCES = {value: str(label) for value, label in Source.choices}
_PARTIES = {value: str(label) for value, label in Party.choices}
_STATES = {value: str(label) for value, label in ReportState.choices}


def safe_cell(value) -> str:
    """A value as a CSV cell a spreadsheet shows as text, never runs."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def report_row(report, *, actor, for_support: bool, now) -> list[str]:
    cp = report.charge_point
    site = report.report_site
    if report.assigned_to_id:
        person = person_label(report.assigned_to, for_support=for_support)
    else:
        person = ""
    driver = [report.reporter_name, report.reporter_email, report.reporter_phone]
    if any(driver) and not driver_contact_visible(actor=actor, report=report, now=now):
        driver = [MASKED if value else "" for value in driver]
    cells = [
        report.pk, _when(report.created_at),
        cp.name if cp else "", cp.ocpp_id if cp else "", site.name if site else "",
        cp.owner.name if cp else "", cp.operator.name if cp else "",
        _SOURCES.get(report.source, report.source), _REASONS.get(report.reason, report.reason),
        _STATES.get(report.state, report.state),
        _PARTIES.get(report.assigned_party, report.assigned_party), person,
        timesince(report.created_at, now, depth=1), report.occurrences, _when(report.resolved_at),
        *driver,
    ]
    return [safe_cell(cell) for cell in cells]


class _Line:
    """A file-like object whose ``write`` hands the line back to the caller."""

    def write(self, value):
        return value


def report_csv_lines(queryset: QuerySet, *, actor, for_support: bool,
                     chunk_size: int = CHUNK_SIZE) -> Iterator[str]:
    """CSV lines (header first) for each report of ``queryset``, in its order."""
    writer = csv.writer(_Line())
    now = timezone.now()
    yield "\ufeff" + writer.writerow(HEADER)  # the BOM makes Excel read UTF-8
    reports = queryset.select_related(
        "charge_point__site", "charge_point__owner", "charge_point__operator", "assigned_to", "site",
    ).only(
        "id", "created_at", "source", "reason", "state", "assigned_party", "occurrences", "resolved_at",
        "reporter_name", "reporter_email", "reporter_phone", "charge_point_id", "site_id", "assigned_to_id",
        "charge_point__name", "charge_point__ocpp_id", "charge_point__owner_id", "charge_point__operator_id",
        "charge_point__site__name", "charge_point__owner__name", "charge_point__operator__name",
        "site__name", "assigned_to",
    )
    for report in reports.iterator(chunk_size=chunk_size):
        yield writer.writerow(report_row(report, actor=actor, for_support=for_support, now=now))
