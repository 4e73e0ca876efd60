"""The report's page: its header, timeline, conversation and evidence, and
the pages behind its buttons (assign, resolve, reopen, comment, message).
Mixed into ``ReportAdmin`` (reports.py)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Capability, is_support, person_label
from reporting import services
from reporting.catalogue import Party, Reason, Source
from reporting.contact_visibility import HIDDEN_REPEAT_NOTE, driver_contact_visible
from reporting.error_hint_selectors import error_hint_for_report
from reporting.errors import ReportError
from reporting.models import EventKind, Report, ReportState
from reporting.selectors import report_evidence
from reporting.services import SYSTEM_LABEL, report_allows
from reporting.system_text import translate_note

from . import actions
from .forms import CommentForm, MessageForm
from .linking import LinkChargePointForm
from .report_list import label_of


class ReportPageMixin:
    @admin.display(description=_("reported by"))
    def reporter_display(self, obj):
        if obj.reported_by_id:
            return person_label(obj.reported_by, for_support=self.on_support_site())
        return obj.reporter_name or {"system": _("The health checks")}.get(obj.source, "—")

    def _report(self, request, report_id) -> Report:
        return get_object_or_404(self.get_queryset(request), pk=report_id)

    def _page_url(self, report) -> str:
        return reverse(f"{self.admin_site.name}:reporting_report_change", args=[report.pk])

    def transition_view(self, request, report_id, name):
        report = self._report(request, report_id)
        why = actions.refusal(report, name, request.user)
        if why is not None:
            self.message_user(request, why, messages.ERROR)
            return redirect(self._page_url(report))
        if request.method == "POST":
            form = actions.make_form(name, request, [report], request.POST)
            if form.is_valid():
                done, failed = actions.apply(name, reports=[report], user=request.user, cleaned=form.cleaned_data)
                actions.report_outcome(self, request, name, done, failed, form.cleaned_data)
                return redirect(self._page_url(report))
        else:
            form = actions.make_form(name, request, [report])
        return actions.render_page(self, request, name, reports=[report], form=form, bulk=False,
                                   cancel_url=self._page_url(report))

    def comment_view(self, request, report_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        report = self._report(request, report_id)
        form = CommentForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Write a comment first."), messages.ERROR)
        else:
            try:
                services.report_comment(report=report, by=request.user, body=form.cleaned_data["body"])
            except ReportError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, _("Comment added to the timeline."), messages.SUCCESS)
        return redirect(self._page_url(report) + "#timeline")

    def message_view(self, request, report_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        report = self._report(request, report_id)
        form = MessageForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Write a message first."), messages.ERROR)
        else:
            try:
                services.report_add_message(report=report, by=request.user, **form.cleaned_data)
            except ReportError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, _("Message added to the conversation."), messages.SUCCESS)
        return redirect(self._page_url(report) + "#conversation")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = None
        if str(object_id).isdigit():
            report = self.get_queryset(request).filter(pk=int(object_id)).first()
        extra = {}
        if report is not None:
            extra = self.page_context(request, report)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def page_context(self, request, report: Report) -> dict:
        site = self.admin_site.name
        cp = report.charge_point
        user = request.user
        buttons = []
        for name in ("assign", "resolve", "reopen"):
            if actions.refusal(report, name, user) is None:
                buttons.append({"label": actions.TRANSITIONS[name].page_button,
                                "url": reverse(f"{site}:reporting_report_{name}", args=[report.pk])})
        # People are named by name only outside /admin/ (see person_label).
        for_support = self.on_support_site()
        events = list(report.events.select_related("to_person", "actor").order_by("created_at", "id"))
        contact_visible = driver_contact_visible(actor=user, report=report)
        for event in events:
            if not contact_visible and event.kind == EventKind.REPORTED_AGAIN:
                event.note = HIDDEN_REPEAT_NOTE
            elif event.kind not in (EventKind.COMMENT, EventKind.MESSAGE):
                # The system's own sentences in the reader's language; a person's words as written.
                event.note = translate_note(event.note)
            event.actor_display = event.actor_label
            if event.actor_id and event.actor_label.lower() == event.actor.email.lower():
                event.actor_display = person_label(event.actor, for_support=for_support)
            event.to_person_display = person_label(event.to_person, for_support=for_support)
            # States and parties by their labels, in the reader's language.
            event.from_state_label = label_of(ReportState, event.from_state) if event.from_state else ""
            event.to_state_label = label_of(ReportState, event.to_state) if event.to_state else ""
            event.from_party_label = label_of(Party, event.from_party) if event.from_party else ""
            event.to_party_label = label_of(Party, event.to_party) if event.to_party else ""
            # The system, named in the reader's language.
            if not event.actor_id and event.actor_label == SYSTEM_LABEL:
                event.actor_display = _("System")
        conversation = list(report.messages.select_related("author").order_by("sent_at", "id"))
        for message in conversation:
            message.author_display = message.author_name
            if not contact_visible and message.sender == message.Sender.DRIVER:
                message.author_display = _("Driver")
            if message.author_id and message.author_name.lower() == message.author.email.lower():
                message.author_display = person_label(message.author, for_support=for_support)
        return {
            "report": report,
            "description": translate_note(report.description) if report.source == Source.SYSTEM
            else report.description,
            "cp": cp,
            "cp_url": reverse(f"{site}:chargepoints_chargepoint_change", args=[cp.pk]) if cp else "",
            # Not "site_url": that name is the admin header's "View site" link.
            "charging_site_url": reverse(f"{site}:chargepoints_site_change", args=[cp.site_id if cp else report.site_id])
            if cp or report.site_id else "",
            "about_site": report.site if cp is None and report.site_id else None,
            "reason_label": label_of(Reason, report.reason),
            "source_label": label_of(Source, report.source),
            "state_label": label_of(ReportState, report.state),
            "party_label": label_of(Party, report.assigned_party),
            "age": timesince(report.created_at, timezone.now(), depth=2),
            "time_left": self.time_left(report),
            "reporter": self.reporter_display(report) if contact_visible else _("A driver (contact details hidden)"),
            "is_resolved": report.state == ReportState.RESOLVED,
            "history_url": "#timeline",
            "buttons": buttons,
            "events": events,
            "can_comment": report_allows(user, Capability.COMMENT, report),
            "comment_url": reverse(f"{site}:reporting_report_comment", args=[report.pk]),
            "comment_form": CommentForm(auto_id="comment_%s"),
            "is_conversation": report.source == Source.SUPPORT,
            "conversation": conversation,
            "can_message": self.on_support_site() and is_support(user),
            "message_url": reverse(f"{site}:reporting_report_message", args=[report.pk]),
            "message_form": MessageForm(auto_id="message_%s"),
            "evidence": report_evidence(report=report),
            "assignee": person_label(report.assigned_to, for_support=for_support),
            "can_link": cp is None and report.source == Source.SUPPORT and self.on_support_site() and is_support(user),
            "link_url": reverse(f"{site}:reporting_report_link_charge_point", args=[report.pk]),
            "link_form": LinkChargePointForm(),
            "error_hint": error_hint_for_report(report),
        }
