"""Site outages (inhibition): when at least ``percent`` % of a site's charge
points, and at least ``min_charge_points``, are disconnected (as the
disconnected check defines it), the sweep files one "site offline" report
about the site and no per charge point "disconnected" reports there while
it is open. When the site comes back the report resolves (by the usual
auto-resolve rules) and charge points still down file their own at the
next detection.

Set-based: one grouped query over the charge points of the sites that have
a disconnected charge point (found through the state index), one for the
open site reports; the reports are filed and bumped in one statement each.
A site belongs to the chunk holding its lowest charge point id, so a sweep
split by id range looks at each site once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Min, Q

from chargepoints.models import ChargePoint, ChargePointState
from reporting.catalogue import Reason, Source
from reporting.maintenance import ActiveWindows
from reporting.models import EventKind, Report, ReportState
from reporting.services import report_file_site_reports, report_resolve, report_system_event

from .checks import IdRange
from .thresholds import HealthConfig

REASON = Reason.SITE_OFFLINE


@dataclass(frozen=True)
class SiteStats:
    site_id: int
    down: int
    total: int
    team_id: int


def _down(config: HealthConfig, now: datetime) -> Q:
    minutes = config.defaults[Reason.DISCONNECTED].minutes or 0
    return Q(state=ChargePointState.DISCONNECTED, state_since__lt=now - timedelta(minutes=minutes))


def _in_outage(config: HealthConfig, sites_query, now: datetime, ids: IdRange) -> dict[int, SiteStats]:
    """Site id -> its counts, for the sites among ``sites_query`` (a query of
    site ids) in an outage whose lowest charge point id is in ``ids``."""
    outage = config.site_outage
    rows = (
        ChargePoint.objects.filter(site_id__in=sites_query)
        .order_by()
        .values("site_id")
        .annotate(down=Count("id", filter=_down(config, now)), total=Count("id"), first=Min("id"),
                  team_id=Min("site__team_id"))
        .filter(down__gte=max(outage.min_charge_points, 1))
        .filter(down__gte=F("total") * outage.percent / 100.0)
        .filter(ids.q("first"))
        .values_list("site_id", "down", "total", "team_id")
    )
    return {site_id: SiteStats(site_id, down, total, team_id) for site_id, down, total, team_id in rows}


def _open_site_reports():
    return Report.objects.filter(source=Source.SYSTEM, reason=REASON, site__isnull=False).exclude(
        state=ReportState.RESOLVED)


def sites_inhibited(first_id, last_id) -> set[int]:
    """Sites with an open "site offline" report: no per charge point
    disconnect is filed there."""
    return set(_open_site_reports().values_list("site_id", flat=True))


def site_outages_clear(config: HealthConfig, now: datetime, first_id, last_id) -> int:
    """Resolve (or annotate, when a person has it or auto-resolve is off) the
    open site reports whose site is no longer in an outage. Returns how many
    were resolved."""
    ids = IdRange(first_id, last_id)
    open_reports = list(_open_site_reports().values_list("pk", "site_id", "assigned_to_id", "condition_cleared_at"))
    if not open_reports:
        return 0
    site_ids = [site_id for _pk, site_id, _a, _c in open_reports]
    # Only the sites of this chunk: those whose lowest charge point id is in it.
    firsts = dict(ChargePoint.objects.filter(site_id__in=site_ids).order_by().values("site_id")
                  .annotate(first=Min("id")).values_list("site_id", "first"))
    mine = [row for row in open_reports if _in_range(firsts.get(row[1]), ids)]
    still = _in_outage(config, [row[1] for row in mine], now, IdRange()) if config.site_outage.enabled else {}
    note = "Fewer of the site's charge points are disconnected than a site outage needs."
    resolved = 0
    for report_id, site_id, assigned_to_id, cleared_at in mine:
        if site_id in still:
            continue
        if assigned_to_id is None and config.auto_resolve:
            with transaction.atomic():
                report = (Report.objects.select_for_update(skip_locked=True).filter(pk=report_id)
                          .exclude(state=ReportState.RESOLVED).first())
                if report is not None:
                    report_resolve(report=report, by=None, note=f"Resolved by the health checks: {note}")
                    resolved += 1
        elif cleared_at is None:
            with transaction.atomic():
                flipped = Report.objects.filter(pk=report_id, condition_cleared_at__isnull=True).update(
                    condition_cleared_at=now)
                if flipped:
                    report_system_event(report=Report.objects.get(pk=report_id), kind=EventKind.CONDITION_CLEARED,
                                        note=f"{note} The report stays open: a person has it or auto-resolve is off.")
    return resolved


def _in_range(first: int | None, ids: IdRange) -> bool:
    if first is None:
        return ids.first is None
    return (ids.first is None or first >= ids.first) and (ids.last is None or first <= ids.last)


def site_outages_detect(config: HealthConfig, now: datetime, first_id, last_id, windows: ActiveWindows
                        ) -> tuple[int, int]:
    """File a "site offline" report for each site in an outage without one;
    count a repeat detection on those with one. The caller holds the
    transaction. Returns (filed, seen again)."""
    if not config.site_outage.enabled:
        return 0, 0
    troubled = ChargePoint.objects.filter(_down(config, now)).order_by().values("site_id")
    outages = _in_outage(config, troubled, now, IdRange(first_id, last_id))
    if not outages:
        return 0, 0
    bumped = set(
        _open_site_reports().filter(site_id__in=list(outages)).values_list("site_id", flat=True)
    )
    if bumped:
        _open_site_reports().filter(site_id__in=bumped).update(
            occurrences=F("occurrences") + 1, last_seen_at=now, updated_at=now)
    minutes = config.defaults[Reason.DISCONNECTED].minutes
    to_file = [
        (stats.site_id, f"{stats.down} of the site's {stats.total} charge points disconnected for more than "
                        f"{minutes} minutes (a site outage: at least {config.site_outage.percent} % and at "
                        f"least {config.site_outage.min_charge_points}).")
        for stats in outages.values()
        if stats.site_id not in bumped
        and not (windows and (windows.by_site.get(stats.site_id) or windows.by_team.get(stats.team_id)))
    ]
    created = report_file_site_reports(reason=REASON, sites=to_file, now=now) if to_file else {}
    return len(created), len(bumped)
