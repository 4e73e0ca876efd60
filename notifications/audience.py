"""Who hears of a report event: the teams' active contacts, by the rules of
``notification_audience``."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Team
from reporting.catalogue import Party
from reporting.models import EventKind, ReportContact, ReportEvent, ReportSettings


@dataclass(frozen=True)
class _Audience:
    team: Team
    contacts: list[ReportContact]


def notification_audience(*, event: ReportEvent, settings_by_team: dict | None = None) -> list[_Audience]:
    """Who hears about a timeline event. The rule:

    - **created**: the active contacts of the charge point's *operator* team,
      always (that is what the contacts are for). The operator handles every
      new report or hands it on, whichever party the report was routed to.
    - **assigned** to a party: the contacts of that party's team, if the team
      has e-mail updates on: the operator team for ``operator``, the owner
      team for ``owner``. Assigning to support e-mails no team; support works
      from its own queue.
    - **resolved**: the operator team's contacts, and the owner team's too
      when the report was with the owner, each if the team has e-mail updates on.

    - **target missed** (a response-time target): the operator team's
      contacts, always, like a new report. Support's copy, when the target
      escalates to support, is ``notifications.events._support_copy``.

    Other events (comments, messages, re-opening, recurrences) send nothing.
    Contacts switched off (``is_active``) never get anything. A team listed
    twice (the owner operates its own charge points) is e-mailed once.
    """
    report = event.report
    cp = report.charge_point
    if cp is not None:
        owner, operators = cp.owner, [cp.operator]
    elif report.site_id is not None:  # a report about a whole site (site offline)
        owner, operators = report.site.team, report.site_operator_teams()
    else:  # a support conversation with no charge point yet: no team to tell
        return []
    if event.kind in (EventKind.CREATED, EventKind.TARGET_MISSED):
        teams, needs_updates = operators, False
    elif event.kind == EventKind.ASSIGNED:
        needs_updates = True
        teams = {Party.OPERATOR: operators, Party.OWNER: [owner]}.get(event.to_party, [])
    elif event.kind == EventKind.RESOLVED:
        needs_updates = True
        teams = operators + ([owner] if report.assigned_party == Party.OWNER else [])
    else:
        return []

    unique_teams = list({team.pk: team for team in teams}.values())
    missing = [team.pk for team in unique_teams if settings_by_team is None or team.pk not in settings_by_team]
    if missing:  # a site report's teams are not among those the caller loaded
        settings_by_team = {**(settings_by_team or {}), **report_settings_by_team(team_ids=missing)}
    audience = []
    for team in unique_teams:
        team_settings = settings_by_team.get(team.pk)
        if team_settings is None or (needs_updates and not team_settings.email_updates):
            continue
        contacts = [c for c in team_settings.contacts.all() if c.is_active]
        if contacts:
            audience.append(_Audience(team=team, contacts=contacts))
    return audience


def report_settings_by_team(*, team_ids) -> dict:
    """Team id -> its report settings with the contacts, in two queries."""
    return {
        s.team_id: s for s in ReportSettings.objects.filter(team_id__in=team_ids).prefetch_related("contacts")
    }
