"""Reading the error-hint catalogue: the hint for a charger's codes."""

from __future__ import annotations

from django.db.models import Q

from .error_hints import CATALOGUE, NO_ERROR
from .models import VendorErrorCode


def error_hint_for(*, vendor: str = "", model: str = "", error_code: str = "",
                   vendor_error_code: str = "") -> dict | None:
    """The hint for a charger's error: support's vendor mapping first (the
    charger's model before "any model"), then the OCPP / ChargeX code of
    ``error_code``, then a ChargeX code sent as the vendor error code. None
    when there is no error or the codes are unknown. Strings are in the
    active language."""
    vendor_error_code = (vendor_error_code or "").strip()
    if vendor and vendor_error_code:
        mapping = (
            VendorErrorCode.objects.filter(vendor__iexact=vendor.strip(), vendor_error_code=vendor_error_code)
            .filter(Q(model__iexact=(model or "").strip()) | Q(model=""))
            .order_by("-model")
            .first()
        )
        if mapping is not None and mapping.code in CATALOGUE:
            return CATALOGUE[mapping.code].as_dict(own_hint=mapping.hint, vendor_code=vendor_error_code)
    if error_code and error_code != NO_ERROR and error_code in CATALOGUE:
        return CATALOGUE[error_code].as_dict(vendor_code=vendor_error_code)
    if vendor_error_code in CATALOGUE and vendor_error_code != NO_ERROR:
        return CATALOGUE[vendor_error_code].as_dict(vendor_code=vendor_error_code)
    return None


def error_hint_for_charge_point(charge_point) -> dict | None:
    """The hint for a charge point: its own codes, else the first connector
    in error with a known code."""
    if charge_point is None:
        return None
    vendor, model = charge_point.vendor, charge_point.model
    hint = error_hint_for(vendor=vendor, model=model, error_code=charge_point.error_code,
                          vendor_error_code=charge_point.vendor_error_code)
    if hint is not None:
        return hint
    connectors = (charge_point.connectors.exclude(error_code__in=["", NO_ERROR], vendor_error_code="")
                  .order_by("number").values_list("number", "error_code", "vendor_error_code"))
    for number, code, vendor_code in connectors:
        hint = error_hint_for(vendor=vendor, model=model, error_code=code, vendor_error_code=vendor_code)
        if hint is not None:
            return {**hint, "connector": number}
    return None


def error_hint_for_report(report) -> dict | None:
    """The hint on a report's page, e-mail and API: for a charge point's
    report, from the charger's codes as they are now."""
    if report.charge_point_id is None:
        return None
    return error_hint_for_charge_point(report.charge_point)
