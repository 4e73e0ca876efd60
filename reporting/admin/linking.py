"""Support links a charge point to a conversation that came in by e-mail
without naming one (the "needs a charge point" list)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.permissions import is_support
from chargepoints.models import ChargePoint, normalize_public_code
from reporting.conversations import report_link_charge_point
from reporting.errors import ReportError


class LinkChargePointForm(forms.Form):
    charge_point = forms.CharField(
        label="Charge point", max_length=100, help_text="Its OCPP id or the public code on its QR sticker."
    )


def link_charge_point_view(model_admin, request, report_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    report = model_admin._report(request, report_id)
    if not (model_admin.on_support_site() and is_support(request.user)):
        raise PermissionDenied
    form = LinkChargePointForm(request.POST)
    page = model_admin._page_url(report)
    if not form.is_valid():
        model_admin.message_user(request, _("Name the charge point by its OCPP id or public code."), messages.ERROR)
        return redirect(page)
    value = form.cleaned_data["charge_point"].strip()
    charge_point = (ChargePoint.objects.filter(ocpp_id=value).first()
                    or ChargePoint.objects.filter(public_code=normalize_public_code(value)).first())
    if charge_point is None:
        model_admin.message_user(request, gettext("No charge point has the OCPP id or public code “%(value)s”.") % {"value": value},
                                 messages.ERROR)
        return redirect(page)
    try:
        report_link_charge_point(report=report, charge_point=charge_point, by=request.user)
    except ReportError as error:
        model_admin.message_user(request, error.message, messages.ERROR)
    else:
        model_admin.message_user(request, gettext("Linked to %(name)s.") % {"name": charge_point.name}, messages.SUCCESS)
    return redirect(page)


class NeedsChargePointFilter(admin.SimpleListFilter):
    """Support conversations that came in by e-mail without naming a charge
    point, waiting for support to link one."""

    title = _("charge point")
    parameter_name = "charge_point_linked"

    def lookups(self, request, model_admin):
        return [("no", _("Needs a charge point")), ("yes", _("Linked"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(charge_point__isnull=True)
        if self.value() == "yes":
            return queryset.filter(charge_point__isnull=False)
        return queryset
