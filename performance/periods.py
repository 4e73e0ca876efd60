"""The periods the figures are given for: the last 30, 90 or 365 days
(today included, up to now), a calendar month or a calendar quarter. Days
are UTC days, as the rollups are."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils.translation import gettext as _

from core.errors import Invalid

LAST_DAYS = (30, 90, 365)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    first: date  # the first day
    last: date  # the last day (included)
    label: str

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=UTC)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def period_last_days(days: int, *, today: date) -> Period:
    return Period(today - timedelta(days=days - 1), today, _("Last %(n)s days") % {"n": days})


def period_month(year: int, month: int) -> Period:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(first, following - timedelta(days=1), f"{year}-{month:02d}")


def period_quarter(year: int, quarter: int) -> Period:
    first = date(year, 3 * quarter - 2, 1)
    last = period_month(year, 3 * quarter).last
    return Period(first, last, f"{year}-Q{quarter}")


def period_quarter_of(day: date) -> Period:
    return period_quarter(day.year, (day.month - 1) // 3 + 1)


def period_parse(value: str | None, *, today: date, default: str = "30d") -> Period:
    """``30d``, ``90d``, ``365d``, a month ``2026-03`` or a quarter
    ``2026-Q1``; anything else is refused with a message."""
    value = (value or default).strip()
    if value.endswith("d") and value[:-1].isdigit() and int(value[:-1]) in LAST_DAYS:
        return period_last_days(int(value[:-1]), today=today)
    if match := _MONTH.match(value):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12 and 2000 <= year <= 2100:
            return period_month(year, month)
    if match := _QUARTER.match(value):
        year = int(match[1])
        if 2000 <= year <= 2100:
            return period_quarter(year, int(match[2]))
    raise Invalid(
        _("Unknown period \"%(value)s\": use 30d, 90d, 365d, a month (2026-03) or a quarter (2026-Q1).")
        % {"value": value[:40]},
        field="period",
    )
