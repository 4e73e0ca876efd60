"""The e-mail a report event causes, in the team's language: subject, text
and HTML, with a link to the report in the back-office."""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from accounts.models import Team
from reporting.catalogue import Party, Source
from reporting.error_hint_selectors import error_hint_for_report
from reporting.models import ReportEvent, ReportState
from reporting.settings_models import BreachKind, ResponseBreach
from reporting.system_text import translate_note

from .models import NotificationKind


def report_admin_url(*, report_id: int, site: str = "operator") -> str:
    """Absolute link to the report's change page on an admin site ("operator"
    for team members, "admin" for support)."""
    try:
        path = reverse(f"{site}:reporting_report_change", args=[report_id])
    except NoReverseMatch:
        # The report admin is registered by the reporting app; should it be
        # missing (a partial URLconf), the address is still the admin's scheme.
        path = f"/{site}/reporting/report/{report_id}/change/"
    return f"{settings.SITE_URL}{path}"


def _render(*, kind: str, event: ReportEvent, team: Team, to_support: bool = False) -> tuple[str, str, str]:
    """Subject, text body and HTML body, in the team's language (English
    for support's copy)."""
    report = event.report
    cp = report.charge_point
    if cp is not None:
        site, owner, operators = cp.site, cp.owner, [cp.operator]
    else:  # a report about a whole site (site offline)
        site, owner, operators = report.site, report.site.team, report.site_operator_teams()
    breach = None
    if kind == NotificationKind.TARGET_MISSED:
        breach = ResponseBreach.objects.filter(event=event).first()
    with translation.override("en" if to_support else team.language):
        context = {
            "kind": kind,
            "language": team.language,
            "report": report,
            "report_id": report.pk,
            "cp_name": cp.name if cp is not None else site.name,
            "site_name": site.name,
            "owner_name": owner.name,
            "operator_name": ", ".join(operator.name for operator in operators),
            "team_name": team.name,
            "charge_point": cp,
            "site": site,
            "owner": owner,
            "operator": operators[0] if operators else None,
            "team": team,
            "reason": report.get_reason_display(),
            "source": report.get_source_display(),
            "state": ReportState(event.to_state or report.state).label,
            "party": Party(report.assigned_party).label,
            "person": report.assigned_to.actor_label if report.assigned_to else "",
            # The system's own sentences (auto-resolve notes, health-check
            # descriptions) in the e-mail's language; a person's as written.
            "note": translate_note(event.note) if kind in (NotificationKind.ASSIGNED, NotificationKind.RESOLVED)
            else "",
            "description": translate_note(report.description) if report.source == Source.SYSTEM
            else report.description,
            "url": report_admin_url(report_id=report.pk, site="admin" if to_support else "operator"),
            "to_support": to_support,
            "target_label": BreachKind(breach.kind).label if breach else "",
            "due_at": f"{breach.due_at.astimezone(UTC):%Y-%m-%d %H:%M}" if breach else "",
            "hint": error_hint_for_report(report),
        }
        subject = " ".join(render_to_string("notifications/email/subject.txt", context).split())
        context["subject"] = subject
        body_text = render_to_string("notifications/email/body.txt", context)
        body_html = render_to_string("notifications/email/body.html", context)
    return subject[:300], body_text.strip() + "\n", body_html
