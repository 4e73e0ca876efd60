"""Writes on support's vendor error codes (reporting/error_hint_models.py):
support only, one audit row each, in the same transaction."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import audit_diff, audit_record, audit_snapshot
from accounts.models import AuditAction
from accounts.permissions import is_support
from core.errors import Conflict, Invalid, NotAllowed

from .error_hints import CATALOGUE
from .models import VendorErrorCode

FIELDS = ["vendor", "model", "vendor_error_code", "code", "hint"]


def _require_support(by) -> None:
    if not is_support(by):
        raise NotAllowed("Only support staff may change the vendor error codes.")


@transaction.atomic
def vendor_error_code_save(*, mapping: VendorErrorCode, by) -> VendorErrorCode:
    """Add or change a vendor error code as support's form left it."""
    _require_support(by)
    for name in ("vendor", "model", "vendor_error_code", "hint"):
        setattr(mapping, name, (getattr(mapping, name) or "").strip())
    if not mapping.vendor or not mapping.vendor_error_code:
        raise Invalid("Give the vendor and the vendor's error code.", field="vendor_error_code")
    if mapping.code not in CATALOGUE:
        raise Invalid(f"'{mapping.code}' is not in the error-hint catalogue.", field="code")
    clash = VendorErrorCode.objects.filter(
        vendor__iexact=mapping.vendor, model__iexact=mapping.model, vendor_error_code=mapping.vendor_error_code
    ).exclude(pk=mapping.pk)
    if clash.exists():
        raise Conflict("This vendor error code is already mapped for this vendor and model.")
    created = mapping.pk is None
    before = {} if created else audit_snapshot(
        VendorErrorCode.objects.select_for_update().get(pk=mapping.pk), FIELDS)
    mapping.save()
    audit_record(by=by, action=AuditAction.CREATE if created else AuditAction.UPDATE, obj=mapping, team=None,
                 changes=audit_diff(before, audit_snapshot(mapping, FIELDS)))
    return mapping


@transaction.atomic
def vendor_error_code_delete(*, mapping: VendorErrorCode, by) -> None:
    _require_support(by)
    audit_record(by=by, action=AuditAction.DELETE, obj=mapping, team=None,
                 changes=audit_diff(audit_snapshot(mapping, FIELDS), {}))
    mapping.delete()
