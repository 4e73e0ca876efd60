"""The quarterly uptime submittal as CSV: one row per port with its uptime,
outage minutes, excluded minutes and each outage's duration, streamed a
charge point at a time (``reporting.exports``' way: a generator of lines
that a streaming response sends as they come).

The rows come from the outage ledger of the quarter (each outage whole,
not cut at midnight as the daily rollups are), so its durations add up to
the outage minutes of the same row."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from chargepoints.models import ChargePoint
from reporting.exports import safe_cell

from .ledger import ledger_for
from .periods import Period
from .selectors import nevi_uptime

CHUNK_SIZE = 500
HEADER = [
    "charge point", "ocpp id", "site", "port", "period", "minutes", "uptime %", "outage minutes",
    "excluded minutes", "outages", "outage durations (minutes)",
]


class _Line:
    def write(self, value):
        return value


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}"


def uptime_csv_lines(charge_points: QuerySet[ChargePoint], *, period: Period,
                     now: datetime | None = None) -> Iterator[str]:
    """CSV lines (header first): each port of each charge point."""
    now = now or timezone.now()
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(HEADER)
    rows = charge_points.select_related("site").order_by("pk")
    for cp in rows.iterator(chunk_size=CHUNK_SIZE):
        ledger = ledger_for(charge_point=cp, start=period.start, end=min(period.end, now))
        for port, outages in sorted(ledger.ports.items()) or [(0, [])]:
            outage = sum(o.seconds for o in outages)
            excluded = sum(o.excluded_seconds for o in outages)
            uptime = nevi_uptime(minutes=ledger.minutes, outage_minutes=outage / 60, excluded_minutes=excluded / 60)
            cells = [
                cp.name, cp.ocpp_id, cp.site.name, port, period.label, f"{ledger.minutes:.0f}",
                "" if uptime is None else f"{uptime:.3f}", _minutes(outage), _minutes(excluded), len(outages),
                "; ".join(_minutes(o.seconds) for o in outages),
            ]
            yield writer.writerow([safe_cell(cell) for cell in cells])
