"""Vendor-specific error codes mapped onto the error-hint catalogue by
support (reporting/error_hints.py)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .error_hints import code_choices


class VendorErrorCode(models.Model):
    """A vendor's own error code (``vendorErrorCode`` of a StatusNotification)
    for its chargers, or one model of them, read as a catalogue entry."""

    vendor = models.CharField(_("vendor"), max_length=100, help_text=_("As the charger reports it (compared without case)."))
    model = models.CharField(_("model"), max_length=100, blank=True, help_text=_("Empty: any model of the vendor."))
    vendor_error_code = models.CharField(_("vendor error code"), max_length=100)
    code = models.CharField(_("catalogue entry"), max_length=50, choices=code_choices)
    hint = models.TextField(_("own hint"), blank=True,
                            help_text=_("Shown instead of the catalogue's hint. Empty: the catalogue's."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("vendor error code")
        verbose_name_plural = _("vendor error codes")
        ordering = ["vendor", "model", "vendor_error_code"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "model", "vendor_error_code"], name="vendorerrorcode_unique")
        ]

    def __str__(self) -> str:
        return f"{self.vendor} {self.model or '(any model)'} {self.vendor_error_code} → {self.code}"
