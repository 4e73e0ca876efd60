"""Filings per client address and per charge point, in fixed windows, with
the machinery every door shares (core/ratelimit.py): the answer carries the
RateLimit fields, a refusal Retry-After. With several server processes the
cache must be shared (CACHE_URL=redis://...), as for the API's limits."""

from __future__ import annotations

from django.conf import settings

from core.ratelimit import rate_limit_hit, rate_limit_remember


def filing_allowed(*, address: str, charge_point_id: int, request=None) -> bool:
    """Count a filing attempt against both limits; False when either is over.
    With ``request``, its answer gets the nearer limit's RateLimit fields."""
    return _allowed("drivers", settings.DRIVER_REPORTS, address=address, charge_point_id=charge_point_id,
                    request=request)


def review_allowed(*, address: str, charge_point_id: int, request=None) -> bool:
    """As ``filing_allowed``, for reviews (their own counters and limits:
    ``DRIVER_REVIEWS``), so rating a charge does not use up reporting."""
    return _allowed("reviews", settings.DRIVER_REVIEWS, address=address, charge_point_id=charge_point_id,
                    request=request)


def _allowed(prefix: str, limits: dict, *, address: str, charge_point_id: int, request) -> bool:
    window = limits["rate_window_seconds"]
    decisions = [
        rate_limit_hit(f"{prefix}:addr:{address}", limit=limits["rate_per_address"], window=window),
        rate_limit_hit(f"{prefix}:cp:{charge_point_id}", limit=limits["rate_per_charge_point"], window=window),
    ]
    if request is not None:
        for decision in decisions:
            rate_limit_remember(request, decision)
    return all(decision.allowed for decision in decisions)
