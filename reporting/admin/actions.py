"""Assign, resolve and reopen: the confirmation pages and the bulk runs.

The same code serves the list's bulk actions and the buttons on a report's
page. Every change goes through ``reporting.services`` (which checks the
permission again and writes the timeline); this module only shows, before
anything happens, which reports will change and which will not, and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from accounts.models import User
from accounts.permissions import Capability, is_support, person_label
from reporting import services
from reporting.catalogue import Party
from reporting.errors import NotPermitted, OpenReportExists, ReportError, TransitionNotAllowed
from reporting.models import Report
from reporting.services.access import report_allows

from .forms import AssignForm, ReopenForm, ResolveForm, person_choices

# A bulk action runs one service call (one transaction) per report.
MAX_BULK = 500


@dataclass(frozen=True)
class Transition:
    name: str
    capability: Capability
    title: str
    title_many: str
    button: str
    done: str  # the past participle the page's and the messages' sentences use
    page_button: str  # the report page's button


TRANSITIONS = {
    "assign": Transition("assign", Capability.ASSIGN, _("Assign report"), _("Assign reports"), _("Yes, assign"),
                         pgettext_lazy("what happens to a report", "assigned"), _("Assign…")),
    "resolve": Transition("resolve", Capability.RESOLVE, _("Resolve report"), _("Resolve reports"),
                          _("Yes, resolve"), pgettext_lazy("what happens to a report", "resolved"), _("Resolve…")),
    "reopen": Transition("reopen", Capability.RESOLVE, _("Reopen report"), _("Reopen reports"), _("Yes, reopen"),
                         pgettext_lazy("what happens to a report", "reopened"), _("Reopen…")),
}


def refusal(report: Report, name: str, user) -> str | None:
    """Why ``name`` cannot be done to the report by the user, or None."""
    transition = TRANSITIONS[name]
    if not report_allows(user, transition.capability, report):
        return NotPermitted(action=name).message
    if not can_proceed(getattr(report, name)):
        return TransitionNotAllowed(action=name, state=report.state).message
    return None


def make_form(name: str, request, reports: list[Report], data=None):
    if name == "assign":
        choices = person_choices(reports=reports, user=request.user, include_support=is_support(request.user))
        return AssignForm(data, person_choices=choices)
    return {"resolve": ResolveForm, "reopen": ReopenForm}[name](data)


def apply(name: str, *, reports: list[Report], user, cleaned: dict) -> tuple[list[Report], list[tuple[Report, str]]]:
    """Run the service on each report; return (changed, [(unchanged, why)])."""
    done, failed = [], []
    person = None
    if name == "assign" and cleaned.get("person_id"):
        person = User.objects.filter(pk=cleaned["person_id"], is_active=True).first()
    for report in reports:
        try:
            if name == "assign":
                services.report_assign(report=report, party=cleaned["party"], person=person, by=user,
                                       note=cleaned.get("note", ""))
            elif name == "resolve":
                services.report_resolve(report=report, by=user, note=cleaned["note"])
            else:
                services.report_reopen(report=report, by=user, note=cleaned.get("note", ""))
        except ReportError as error:
            failed.append((report, error))
        else:
            done.append(report)
    return done, failed


def _why(model_admin, why):
    """A refusal for the message list; a report blocked by another open one
    links to that one."""
    if isinstance(why, OpenReportExists):
        url = reverse(f"{model_admin.admin_site.name}:reporting_report_change", args=[why.open_report_id])
        return format_html('{} <a href="{}">{}</a>', why.message, url,
                           gettext("Open report #%(id)s") % {"id": why.open_report_id})
    return getattr(why, "message", why)


def report_outcome(model_admin, request, name: str, done, failed, cleaned) -> None:
    transition = TRANSITIONS[name]
    if done:
        ids = ", ".join(f"#{r.pk}" for r in done)
        if name == "assign":
            party = str(Party(cleaned["party"]).label).lower()
            if done[0].assigned_to_id:
                party += f" ({person_label(done[0].assigned_to, for_support=is_support(request.user))})"
            text = ngettext("%(count)s report assigned to the %(party)s: %(ids)s.",
                            "%(count)s reports assigned to the %(party)s: %(ids)s.", len(done))
        else:
            party = ""
            text = ngettext("%(count)s report %(done)s: %(ids)s.", "%(count)s reports %(done)s: %(ids)s.", len(done))
        model_admin.message_user(
            request, text % {"count": len(done), "party": party, "done": transition.done, "ids": ids}, messages.SUCCESS)
    if failed:
        heading = ngettext("%(count)s report was not %(done)s:", "%(count)s reports were not %(done)s:", len(failed))
        items = format_html_join("", "<li>#{}: {}</li>", ((r.pk, _why(model_admin, why)) for r, why in failed))
        model_admin.message_user(
            request,
            format_html("{}<ul>{}</ul>", heading % {"count": len(failed), "done": transition.done}, items),
            messages.WARNING if done else messages.ERROR,
        )


def render_page(model_admin, request, name: str, *, reports: list[Report], form, bulk: bool, cancel_url: str):
    transition = TRANSITIONS[name]
    request.current_app = model_admin.admin_site.name
    rows = [(report, refusal(report, name, request.user)) for report in reports]
    applicable = [r for r, why in rows if why is None]
    for report in applicable:  # people by name only, outside support
        report.assignee_display = person_label(report.assigned_to, for_support=is_support(request.user))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": transition.title_many if bulk and len(reports) > 1 else transition.title,
        "transition": transition,
        "applicable": applicable,
        "refused": [(r, why) for r, why in rows if why is not None],
        "form": form,
        "bulk": bulk,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "selected_ids": [r.pk for r in reports],
        "action": f"{name}_reports",
        "cancel_url": cancel_url,
        "report": reports[0] if not bulk else None,
    }
    return TemplateResponse(request, "admin/reporting/report/transition.html", context)


def bulk_action(model_admin, request, queryset, name: str):
    """The body of the list's assign/resolve/reopen actions."""
    reports = list(queryset.with_context()[: MAX_BULK + 1])
    if len(reports) > MAX_BULK:
        model_admin.message_user(
            request, gettext("Select at most %(max)s reports at a time; nothing was changed.") % {"max": MAX_BULK},
            messages.ERROR,
        )
        return None
    if request.POST.get("post") == "yes":
        form = make_form(name, request, reports, request.POST)
        if form.is_valid():
            changeable = [r for r in reports if refusal(r, name, request.user) is None]
            refused = [(r, refusal(r, name, request.user)) for r in reports if r not in changeable]
            done, failed = apply(name, reports=changeable, user=request.user, cleaned=form.cleaned_data)
            report_outcome(model_admin, request, name, done, refused + failed, form.cleaned_data)
            return None  # back to the list
    else:
        form = make_form(name, request, reports)
    return render_page(model_admin, request, name, reports=reports, form=form, bulk=True,
                       cancel_url=request.get_full_path())
