"""Reads for the public report page and the drivers' app."""

from __future__ import annotations

from chargepoints.models import ChargePoint, normalize_public_code


def charge_point_by_public_code(*, code: str) -> ChargePoint | None:
    code = normalize_public_code(code)
    if not code or len(code) > 16:
        return None
    return ChargePoint.objects.select_related("site").filter(public_code=code).first()


def charge_point_by_ocpp_id_or_public_code(*, value: str) -> ChargePoint | None:
    """The app names a charge point by its OCPP id or by the code on its
    sticker."""
    return (
        ChargePoint.objects.select_related("site").filter(ocpp_id=value.strip()).first()
        or charge_point_by_public_code(code=value)
    )
