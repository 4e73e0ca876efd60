"""Remote troubleshooting in both back-offices: the command forms and the
latest commands on each charge point's page and on each report's page (a
command sent from a report goes on its timeline). Added on top of the
charge point and report admins registered by the lower apps, as reporting
adds its reports to the charge point page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.admin_sites import operator_site, support_site
from accounts.permissions import Capability, can_on_charge_point
from chargepoints.models import ChargePoint
from core.errors import DomainError
from reporting.models import Report

from .commands import (
    AVAILABILITY_TYPES,
    RESET_TYPES,
    TRIGGER_MESSAGES,
    command_send,
    connection_live,
)
from .models import CommandAction, RemoteCommand

RECENT = 10
# Commands that interrupt a charge or a driver: the form asks "I am sure".
NEEDS_CONFIRMATION = {CommandAction.RESET, CommandAction.CHANGE_AVAILABILITY, CommandAction.UNLOCK_CONNECTOR}


class CommandForm(forms.Form):
    action = forms.ChoiceField(choices=CommandAction.choices)
    type = forms.ChoiceField(choices=[(t, t) for t in (*RESET_TYPES, *AVAILABILITY_TYPES)], required=False)
    message = forms.ChoiceField(choices=[(m, m) for m in TRIGGER_MESSAGES], required=False)
    connector = forms.IntegerField(min_value=0, max_value=99, required=False)
    report = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") in NEEDS_CONFIRMATION and not data.get("confirm"):
            raise forms.ValidationError("Tick \u201cI am sure\u201d: this command interrupts the charger.")
        return data


def remote_context(request, admin_site, charge_point: ChargePoint, *, report: Report | None = None) -> dict:
    """What the remote troubleshooting panel shows."""
    connection = connection_live(charge_point_id=charge_point.pk)
    return {
        "remote": {
            "commands": list(RemoteCommand.objects.filter(charge_point=charge_point)
                             .order_by("-requested_at", "-pk")[:RECENT]),
            "can_send": can_on_charge_point(request.user, Capability.REMOTE_COMMAND, charge_point=charge_point),
            "connected": connection is not None,
            "connected_at": connection.connected_at if connection else None,
            "url": reverse(f"{admin_site.name}:gateway_chargepoint_command", args=[charge_point.pk]),
            "next": request.get_full_path(),
            "report": report,
            "timeout": settings.OCPP["command_timeout"],
            "reset_types": RESET_TYPES, "messages": TRIGGER_MESSAGES, "availability_types": AVAILABILITY_TYPES,
        }
    }


def _command_view(model_admin, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    charge_point = get_object_or_404(model_admin.get_queryset(request), pk=object_id)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = reverse(f"{model_admin.admin_site.name}:chargepoints_chargepoint_change", args=[charge_point.pk])
    form = CommandForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return HttpResponseRedirect(next_url)
    data = form.cleaned_data
    report = None
    if data.get("report"):
        report = Report.objects.for_user(request.user).filter(pk=data["report"]).first()
    try:
        command = command_send(charge_point=charge_point, by=request.user, action=data["action"],
                               type=data.get("type") or "", message=data.get("message") or "",
                               connector=data.get("connector"), report=report)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Sent {command.summary} to {charge_point.name}. Its answer shows under "
                                  f"\u201cRemote troubleshooting\u201d (reload the page; at most "
                                  f"{settings.OCPP['command_timeout']:.0f} s).")
    return HttpResponseRedirect(next_url)


def _with_remote_commands(charge_point_admin: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    class ChargePointWithCommandsAdmin(charge_point_admin):
        change_form_template = "admin/gateway/chargepoint/change_form.html"

        def get_urls(self):
            command = path("<int:object_id>/command/", self.admin_site.admin_view(self.command_view),
                           name="gateway_chargepoint_command")
            return [command, *super().get_urls()]

        def command_view(self, request, object_id):
            return _command_view(self, request, object_id)

        def change_view(self, request, object_id, form_url="", extra_context=None):
            extra = dict(extra_context or {})
            if str(object_id).isdigit():
                cp = self.get_queryset(request).filter(pk=int(object_id)).first()
                if cp is not None:
                    extra.update(remote_context(request, self.admin_site, cp))
            return super().change_view(request, object_id, form_url, extra)

    return ChargePointWithCommandsAdmin


def _with_remote_troubleshooting(report_admin: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    class ReportWithRemoteCommandsAdmin(report_admin):
        change_form_template = "admin/gateway/report/change_form.html"

        def change_view(self, request, object_id, form_url="", extra_context=None):
            extra = dict(extra_context or {})
            if str(object_id).isdigit():
                report = self.get_queryset(request).select_related("charge_point").filter(pk=int(object_id)).first()
                if report is not None and report.charge_point is not None:
                    extra.update(remote_context(request, self.admin_site, report.charge_point, report=report))
            return super().change_view(request, object_id, form_url, extra)

    return ReportWithRemoteCommandsAdmin


def register() -> None:
    """On both sites: the charge point and report admins registered by the
    apps below (whichever subclass is there now) gain remote troubleshooting."""
    for admin_site in (support_site, operator_site):
        for model, extend in ((ChargePoint, _with_remote_commands), (Report, _with_remote_troubleshooting)):
            current = type(admin_site._registry[model])
            admin_site.unregister(model)
            admin_site.register(model, extend(current))
