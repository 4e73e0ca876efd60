"""Reading the error-hint catalogue: the hint for a charger's codes, for one
charge point or a page of them (a fixed number of queries)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models.functions import Lower

from chargepoints.models import Connector

from .error_hints import CATALOGUE, NO_ERROR
from .models import VendorErrorCode


def _mappings(vendors: Iterable[str]) -> list[VendorErrorCode]:
    wanted = {vendor.strip().lower() for vendor in vendors if vendor and vendor.strip()}
    if not wanted:
        return []
    return list(VendorErrorCode.objects.annotate(_vendor=Lower("vendor")).filter(_vendor__in=wanted))


def _resolve(*, vendor: str, model: str, error_code: str, vendor_error_code: str,
             mappings: list[VendorErrorCode]) -> dict | None:
    vendor_error_code = (vendor_error_code or "").strip()
    vendor, model = (vendor or "").strip().lower(), (model or "").strip().lower()
    if vendor and vendor_error_code:
        found = [m for m in mappings if m.vendor.lower() == vendor and m.vendor_error_code == vendor_error_code
                 and m.model.lower() in (model, "") and m.code in CATALOGUE]
        if found:
            # The charger's own model before "any model".
            mapping = max(found, key=lambda m: m.model != "")
            return CATALOGUE[mapping.code].as_dict(own_hint=mapping.hint, vendor_code=vendor_error_code)
    if error_code and error_code != NO_ERROR and error_code in CATALOGUE:
        return CATALOGUE[error_code].as_dict(vendor_code=vendor_error_code)
    if vendor_error_code != NO_ERROR and vendor_error_code in CATALOGUE:
        return CATALOGUE[vendor_error_code].as_dict(vendor_code=vendor_error_code)
    return None


def error_hint_for(*, vendor: str = "", model: str = "", error_code: str = "",
                   vendor_error_code: str = "") -> dict | None:
    """The hint for a charger's error: support's vendor mapping first (the
    charger's model before "any model"), then the OCPP / ChargeX code of
    ``error_code``, then a ChargeX code sent as the vendor error code. None
    when there is no error or the codes are unknown. Strings are in the
    active language."""
    mappings = _mappings([vendor]) if vendor_error_code else []
    return _resolve(vendor=vendor, model=model, error_code=error_code, vendor_error_code=vendor_error_code,
                    mappings=mappings)


def error_hints_for_charge_points(charge_points: Iterable) -> dict[int, dict | None]:
    """Charge point id -> its hint: its own codes, else the first connector
    (by number) with a known code. Two queries for any number of them."""
    cps = [cp for cp in charge_points if cp is not None]
    if not cps:
        return {}
    connectors: dict[int, list[tuple[int, str, str]]] = {}
    for cp_id, number, code, vendor_code in (
        Connector.objects.filter(charge_point_id__in=[cp.pk for cp in cps])
        .exclude(error_code__in=["", NO_ERROR], vendor_error_code="")
        .order_by("charge_point_id", "number")
        .values_list("charge_point_id", "number", "error_code", "vendor_error_code")
    ):
        connectors.setdefault(cp_id, []).append((number, code, vendor_code))
    with_vendor_codes = [cp.vendor for cp in cps if cp.vendor_error_code or connectors.get(cp.pk)]
    mappings = _mappings(with_vendor_codes)
    hints = {}
    for cp in cps:
        hint = _resolve(vendor=cp.vendor, model=cp.model, error_code=cp.error_code,
                        vendor_error_code=cp.vendor_error_code, mappings=mappings)
        for number, code, vendor_code in connectors.get(cp.pk, []) if hint is None else []:
            hint = _resolve(vendor=cp.vendor, model=cp.model, error_code=code, vendor_error_code=vendor_code,
                            mappings=mappings)
            if hint is not None:
                hint = {**hint, "connector": number}
                break
        hints[cp.pk] = hint
    return hints


def error_hint_for_charge_point(charge_point) -> dict | None:
    if charge_point is None:
        return None
    return error_hints_for_charge_points([charge_point]).get(charge_point.pk)


def error_hint_for_report(report) -> dict | None:
    """The hint on a report's page, e-mail and API: for a charge point's
    report, from the charger's codes as they are now."""
    if report.charge_point_id is None:
        return None
    return error_hint_for_charge_point(report.charge_point)


def error_hints_for_page(objects, *, charge_point_of=lambda obj: obj) -> dict[int, dict | None]:
    """Hints for a page of objects (charge points, or reports with
    ``charge_point_of``), keyed by charge point id."""
    return error_hints_for_charge_points({id(cp): cp for obj in objects
                                          if (cp := charge_point_of(obj)) is not None}.values())
