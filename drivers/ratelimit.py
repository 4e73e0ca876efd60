"""Counting filings in the cache, in fixed windows: per client address and
per charge point. With several server processes the cache must be shared
(CACHE_URL=redis://...), as for the API's rate limits."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache


def _hit(key: str, *, limit: int, window: int) -> bool:
    """Count one hit; True while the window's count is within the limit."""
    bucket = f"drivers:rate:{key}:{int(time.time()) // window}"
    # add() is atomic: the first hit of a window creates the counter.
    if cache.add(bucket, 1, timeout=window + 5):
        return limit >= 1
    try:
        return cache.incr(bucket) <= limit
    except ValueError:  # expired between add() and incr()
        cache.add(bucket, 1, timeout=window + 5)
        return limit >= 1


def filing_allowed(*, address: str, charge_point_id: int) -> bool:
    """Count a filing attempt against both limits; False when either is over."""
    limits = settings.DRIVER_REPORTS
    window = limits["rate_window_seconds"]
    by_address = _hit(f"addr:{address}", limit=limits["rate_per_address"], window=window)
    by_charge_point = _hit(f"cp:{charge_point_id}", limit=limits["rate_per_charge_point"], window=window)
    return by_address and by_charge_point
