"""How quickly problems are answered and solved, from the reports' timelines:
time to first response and time to resolution (median and 90th
percentile) per team, site or reason, and the share of resolved problems
solved remotely.

- The **first response** is the first timeline row a person or an API key
  wrote after the report was filed that acts on it: an assignment, a
  comment, a message, a remote command or the resolution. Rows the system
  writes (filing, "detected again", e-mails) are not a response.
- **Time to resolution** runs from filing to the (latest) resolution.
- **Resolved remotely**: a resolved report with a remote command (a
  person's or self-healing's) on its timeline before the resolution, and no
  site visit recorded for it (``SiteVisit``).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_diff, audit_record
from accounts.models import AuditAction, User
from accounts.permissions import Capability, can_on_charge_point, can_on_team
from core.errors import Invalid, NotAllowed
from reporting.catalogue import Reason
from reporting.models import EventKind, Report, ReportEvent, ReportState
from reporting.services import SYSTEM_LABEL, report_timeline_note

from .models import SiteVisit

RESPONSE_KINDS = (EventKind.ASSIGNED, EventKind.COMMENT, EventKind.MESSAGE, EventKind.REMOTE_COMMAND,
                  EventKind.RESOLVED)
GROUPS = ("team", "site", "reason")


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` 0.9: the 90th)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


@dataclass
class ResponseRow:
    key: object
    label: str
    reports: int = 0
    first_responses: list[float] = field(default_factory=list)  # seconds
    resolutions: list[float] = field(default_factory=list)  # seconds
    resolved_remotely: int = 0

    @property
    def resolved(self) -> int:
        return len(self.resolutions)

    @property
    def first_response_median(self) -> timedelta | None:
        return _delta(statistics.median(self.first_responses) if self.first_responses else None)

    @property
    def first_response_p90(self) -> timedelta | None:
        return _delta(percentile(self.first_responses, 0.9))

    @property
    def resolution_median(self) -> timedelta | None:
        return _delta(statistics.median(self.resolutions) if self.resolutions else None)

    @property
    def resolution_p90(self) -> timedelta | None:
        return _delta(percentile(self.resolutions, 0.9))

    @property
    def remote_share(self) -> float | None:
        return 100 * self.resolved_remotely / self.resolved if self.resolved else None


def _delta(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


def _annotated(reports: QuerySet[Report]) -> QuerySet[Report]:
    responses = ReportEvent.objects.filter(
        report_id=OuterRef("pk"), kind__in=RESPONSE_KINDS, created_at__gte=OuterRef("created_at"),
    ).exclude(actor_label=SYSTEM_LABEL).order_by("created_at").values("created_at")[:1]
    remote = ReportEvent.objects.filter(report_id=OuterRef("pk"), kind=EventKind.REMOTE_COMMAND,
                                        created_at__lte=OuterRef("resolved_at"))
    visited = SiteVisit.objects.filter(report_id=OuterRef("pk"))
    return reports.annotate(
        first_response_at=Subquery(responses),
        remote=Exists(remote) & ~Exists(visited),
        team_id=F("operator_team_id"),  # a site report's: its site's team
        where_id=Coalesce(F("charge_point__site_id"), F("site_id")),
    )


def response_times(*, reports: QuerySet[Report], by: str, created_from: datetime, created_before: datetime
                   ) -> list[ResponseRow]:
    """One row per team, site or reason (``by``) for the reports filed in
    [created_from, created_before), most reports first."""
    if by not in GROUPS:
        raise Invalid(_("Group by one of: %(groups)s.") % {"groups": ", ".join(GROUPS)}, field="by")
    rows: dict[object, ResponseRow] = {}
    values = _annotated(reports.filter(created_at__gte=created_from, created_at__lt=created_before)).values_list(
        "created_at", "first_response_at", "state", "resolved_at", "remote", "team_id", "where_id", "reason")
    labels = _labels(by)
    for created_at, first_at, state, resolved_at, remote, team_id, site_id, reason in values:
        key = {"team": team_id, "site": site_id, "reason": reason}[by]
        row = rows.get(key)
        if row is None:
            row = rows[key] = ResponseRow(key, labels(key))
        row.reports += 1
        if first_at is not None:
            row.first_responses.append((first_at - created_at).total_seconds())
        if state == ReportState.RESOLVED and resolved_at is not None:
            row.resolutions.append((resolved_at - created_at).total_seconds())
            row.resolved_remotely += bool(remote)
    return sorted(rows.values(), key=lambda row: (-row.reports, row.label))


def response_rows_merged(rows: list[ResponseRow], *, key, label: str) -> ResponseRow | None:
    """The rows as one (a team's figures over its reports, whichever team
    operates each charge point); None without rows."""
    if not rows:
        return None
    merged = ResponseRow(key, label)
    for row in rows:
        merged.reports += row.reports
        merged.first_responses += row.first_responses
        merged.resolutions += row.resolutions
        merged.resolved_remotely += row.resolved_remotely
    return merged


def _labels(by: str):
    if by == "reason":
        names = {value: str(label) for value, label in Reason.choices}
        return lambda key: names.get(key, key)
    cache: dict = defaultdict(str)
    if by == "team":
        from accounts.models import Team

        cache.update(Team.objects.values_list("pk", "name"))
    else:
        from chargepoints.models import Site

        cache.update(Site.objects.values_list("pk", "name"))
    return lambda key: cache.get(key) or "-"


def site_visit_record(*, by, report: Report, visited_at: datetime | None = None, note: str = "") -> SiteVisit:
    """Someone went on site for the report: written on its timeline, and the
    report no longer counts as solved remotely."""
    if report.charge_point is None and report.site_id is None:
        raise Invalid(_("The report names no charge point or site to visit."), field="report")
    if report.charge_point is not None:
        allowed = can_on_charge_point(by, Capability.COMMENT, charge_point=report.charge_point)
    else:
        allowed = can_on_team(by, Capability.COMMENT, team_id=report.site.team_id)
    if not allowed:
        raise NotAllowed(_("Only the charge point's teams may record a site visit."))
    visited_at = visited_at or timezone.now()
    if visited_at > timezone.now() + timedelta(minutes=5):
        raise Invalid(_("A site visit cannot be in the future."), field="visited_at")
    with transaction.atomic():
        visit = SiteVisit.objects.create(report=report, visited_at=visited_at,
                                         recorded_by=by if isinstance(by, User) else None)
        team = report.charge_point.owner_id if report.charge_point is not None else report.site.team_id
        audit_record(by=by, action=AuditAction.CREATE, obj=visit, team=team,
                     changes=audit_diff({}, {"report": report.pk, "visited_at": visited_at.isoformat()}))
        text = _("Site visit on %(when)s.") % {"when": f"{visited_at:%Y-%m-%d %H:%M} UTC"}
        report_timeline_note(report=report, by=by, kind=EventKind.COMMENT,
                             note=f"{text} {note.strip()}".strip())
    return visit

