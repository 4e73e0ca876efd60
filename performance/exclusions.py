"""Writes on outage exclusions: adding and removing an exclusion, and
marking a site outage's cause as outside the operator's control. Each is
audited in its own transaction and marks the days it touches for the
rollups to recompute."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Min
from django.utils.translation import gettext as _

from accounts.audit import audit_diff, audit_record, audit_snapshot
from accounts.models import AuditAction, User
from accounts.permissions import Capability, can_on_charge_point, can_on_team
from chargepoints.models import ChargePoint, ChargePointState, Connector, StateChange
from core.errors import Invalid, NotAllowed
from reporting.catalogue import Reason
from reporting.models import Report

from .models import Exclusion, ExclusionReason, SiteOutageCause
from .rollups import rollups_mark_dirty

EXCLUSION_FIELDS = ("charge_point", "connector", "starts_at", "ends_at", "reason", "evidence_text")


def _snapshot(exclusion: Exclusion) -> dict:
    snapshot = audit_snapshot(exclusion, EXCLUSION_FIELDS)
    snapshot["evidence_file"] = exclusion.evidence_file.name if exclusion.evidence_file else ""
    return snapshot
CAUSE_FIELDS = ("report", "reason", "evidence_text", "starts_at")
# How far before a site outage's report its charge points' disconnections
# are looked for (the report is filed minutes after they went).
SITE_OUTAGE_LOOKBACK = timedelta(days=1)


def _require_reason(reason: str) -> None:
    if reason not in ExclusionReason.values:
        raise Invalid(_("Choose a reason from the list."), field="reason")


def exclusion_add(*, by, charge_point: ChargePoint, starts_at: datetime, ends_at: datetime, reason: str,
                  connector: int | None = None, evidence_text: str = "", evidence_file=None) -> Exclusion:
    """Exclude a port's (or, without ``connector``, every port's) outage
    time between ``starts_at`` and ``ends_at`` from its uptime. Team admins
    of the owner or operator and support; evidence (a text or a file) is
    required."""
    if not can_on_charge_point(by, Capability.EDIT_ASSETS, charge_point=charge_point):
        raise NotAllowed(_("Only an admin of the owner or operator team may exclude outage time."))
    _require_reason(reason)
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise Invalid(_("The end must be after the start."), field="ends_at")
    evidence_text = (evidence_text or "").strip()
    if not evidence_text and not evidence_file:
        raise Invalid(_("Give the evidence: a text, a file or both."), field="evidence_text")
    if connector is not None and not Connector.objects.filter(charge_point=charge_point, number=connector).exists():
        raise Invalid(_("The charge point has no connector %(n)s.") % {"n": connector}, field="connector")
    exclusion = Exclusion(charge_point=charge_point, connector=connector, starts_at=starts_at, ends_at=ends_at,
                          reason=reason, evidence_text=evidence_text,
                          created_by=by if isinstance(by, User) else None)
    if evidence_file:
        exclusion.evidence_file = evidence_file
    with transaction.atomic():
        exclusion.save()
        audit_record(by=by, action=AuditAction.CREATE, obj=exclusion, team=charge_point.owner_id,
                     changes=audit_diff({}, _snapshot(exclusion)))
        rollups_mark_dirty(charge_point_ids=[charge_point.pk], start=starts_at, end=ends_at)
    return exclusion


def exclusion_remove(*, by, exclusion: Exclusion) -> None:
    """Take an exclusion back: the time counts as outage again."""
    charge_point = exclusion.charge_point
    if not can_on_charge_point(by, Capability.EDIT_ASSETS, charge_point=charge_point):
        raise NotAllowed(_("Only an admin of the owner or operator team may remove an exclusion."))
    with transaction.atomic():
        audit_record(by=by, action=AuditAction.DELETE, obj=exclusion, team=charge_point.owner_id,
                     changes=audit_diff(_snapshot(exclusion), {}))
        rollups_mark_dirty(charge_point_ids=[charge_point.pk], start=exclusion.starts_at, end=exclusion.ends_at)
        exclusion.delete()


def _site_report(report: Report) -> None:
    if report.reason != Reason.SITE_OFFLINE or report.site_id is None or report.charge_point_id is not None:
        raise Invalid(_("Only a site outage (a \"site offline\" report) can be marked this way."), field="report")


def _site_outage_start(report: Report) -> datetime:
    """When the outage began: the earliest disconnection of the site's
    charge points in the day before the report, else the report's filing."""
    first = StateChange.objects.filter(
        charge_point__site_id=report.site_id, connector__isnull=True, state=ChargePointState.DISCONNECTED,
        occurred_at__gte=report.created_at - SITE_OUTAGE_LOOKBACK, occurred_at__lte=report.created_at,
    ).aggregate(first=Min("occurred_at"))["first"]
    return first or report.created_at


def site_outage_cause_mark(*, by, report: Report, reason: str, evidence_text: str = "") -> SiteOutageCause:
    """A person says the site outage was outside the operator's control (a
    grid outage, ...): its charge points' outage time from its start until
    the report is resolved no longer counts against their uptime. Marking
    again changes the reason."""
    _site_report(report)
    if not can_on_team(by, Capability.EDIT_ASSETS, team_id=report.site.team_id):
        raise NotAllowed(_("Only an admin of the site's team may mark a site outage's cause."))
    _require_reason(reason)
    evidence_text = (evidence_text or "").strip()
    if not evidence_text:
        raise Invalid(_("Say what caused the outage."), field="evidence_text")
    with transaction.atomic():
        cause = SiteOutageCause.objects.select_for_update().filter(report=report).first()
        before = audit_snapshot(cause, CAUSE_FIELDS) if cause else {}
        if cause is None:
            cause = SiteOutageCause(report=report, starts_at=_site_outage_start(report))
        cause.reason, cause.evidence_text = reason, evidence_text
        cause.marked_by = by if isinstance(by, User) else None
        cause.save()
        audit_record(by=by, action=AuditAction.UPDATE if before else AuditAction.CREATE, obj=cause,
                     team=report.site.team_id, changes=audit_diff(before, audit_snapshot(cause, CAUSE_FIELDS)))
        _mark_site(report, cause.starts_at)
    return cause


def site_outage_cause_clear(*, by, report: Report) -> None:
    """Take the mark back: the outage counts against uptime again."""
    _site_report(report)
    if not can_on_team(by, Capability.EDIT_ASSETS, team_id=report.site.team_id):
        raise NotAllowed(_("Only an admin of the site's team may mark a site outage's cause."))
    with transaction.atomic():
        cause = SiteOutageCause.objects.select_for_update().filter(report=report).first()
        if cause is None:
            return
        audit_record(by=by, action=AuditAction.DELETE, obj=cause, team=report.site.team_id,
                     changes=audit_diff(audit_snapshot(cause, CAUSE_FIELDS), {}))
        _mark_site(report, cause.starts_at)
        cause.delete()


def _mark_site(report: Report, starts_at: datetime) -> None:
    from django.utils import timezone

    cp_ids = list(ChargePoint.objects.filter(site_id=report.site_id).values_list("pk", flat=True))
    rollups_mark_dirty(charge_point_ids=cp_ids, start=starts_at, end=report.resolved_at or timezone.now())
