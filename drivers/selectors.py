"""Reads for the public report page."""

from __future__ import annotations

from chargepoints.models import ChargePoint, normalize_public_code


def charge_point_by_public_code(*, code: str) -> ChargePoint | None:
    code = normalize_public_code(code)
    if not code or len(code) > 16:
        return None
    return ChargePoint.objects.select_related("site").filter(public_code=code).first()
