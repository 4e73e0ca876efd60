"""The monthly performance e-mail: on the first days of a month, each team
with e-mail updates on gets last month's figures (uptime, charging success
rate, the charge points with the lowest uptime, response times), in its
language, through the notifications outbox, to its active report contacts.
Once per team and month (``MonthlyEmail``, unique), however often the task
runs or how many run at once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Team
from chargepoints.models import ChargePoint
from notifications.models import NotificationKind
from notifications.services import notifications_queue_for_team
from reporting.models import Report, ReportSettings

from .models import MonthlyEmail
from .periods import Period, period_month
from .response_times import response_rows_merged, response_times
from .selectors import worst_by_uptime
from .totals import totals_for

WORST_IN_EMAIL = 5


def previous_month(today: date) -> Period:
    last = today.replace(day=1) - timedelta(days=1)
    return period_month(last.year, last.month)


def _team_charge_points(team: Team):
    return ChargePoint.objects.filter(owner_id=team.pk) | ChargePoint.objects.filter(operator_id=team.pk)


def monthly_email_render(*, team: Team, period: Period, now: datetime) -> tuple[str, str, str]:
    """Subject, text and HTML of the team's e-mail for the month."""
    charge_points = _team_charge_points(team)
    total = totals_for(charge_points=charge_points, period=period, now=now, team_id=team.pk)
    worst = worst_by_uptime(charge_points=charge_points, period=period, now=now, limit=WORST_IN_EMAIL,
                            team_id=team.pk)
    names = dict(ChargePoint.objects.filter(pk__in=[cp_id for cp_id, _f in worst]).values_list("pk", "name"))
    # By team: one row per operating team (the team's own charge points and
    # those it owns but another team operates), added up.
    responses = response_rows_merged(
        response_times(reports=Report.objects.for_teams([team.pk]), by="team", created_from=period.start,
                       created_before=period.end),
        key=team.pk, label=team.name,
    )
    dashboard = f"{settings.SITE_URL}{reverse('operator:performance_dashboard')}?team={team.pk}&period={period.label}"
    with translation.override(team.language):
        context = {
            "team": team, "period": period, "figures": total, "responses": responses,
            "worst": [{"name": names[cp_id], "uptime": f.uptime} for cp_id, f in worst],
            "url": dashboard,
        }
        subject = " ".join(render_to_string("performance/email/monthly_subject.txt", context).split())
        body_text = render_to_string("performance/email/monthly_body.txt", context)
        body_html = render_to_string("performance/email/monthly_body.html", context)
    return subject, body_text.strip() + "\n", body_html


def monthly_email_queue(*, team: Team, period: Period, now: datetime | None = None) -> int:
    """Queue the team's e-mail for the period's month unless it was queued
    before; returns the number of recipients (0: queued before, or nobody
    to send to)."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = MonthlyEmail.objects.create(team=team, month=period.first, queued_at=now)
        except IntegrityError:
            return 0  # another run got there first
        subject, body_text, body_html = monthly_email_render(team=team, period=period, now=now)
        rows = notifications_queue_for_team(team=team, kind=NotificationKind.PERFORMANCE, subject=subject,
                                            body_text=body_text, body_html=body_html, now=now)
        record.recipients = len(rows)
        record.save(update_fields=["recipients"])
    return len(rows)


def monthly_emails_send(*, now: datetime | None = None) -> int:
    """Every team with e-mail updates on and an active contact, not yet
    e-mailed for last month: queue its e-mail. Returns the e-mails queued."""
    now = now or timezone.now()
    period = previous_month(now.date())
    done = MonthlyEmail.objects.filter(month=period.first).values("team_id")
    team_ids = (ReportSettings.objects.filter(email_updates=True, contacts__is_active=True)
                .exclude(team_id__in=done).values_list("team_id", flat=True).distinct())
    queued = 0
    for team in Team.objects.filter(pk__in=list(team_ids)).order_by("pk"):
        queued += monthly_email_queue(team=team, period=period, now=now)
    return queued
