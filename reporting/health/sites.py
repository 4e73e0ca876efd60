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
A split sweep looks at a site in the chunk holding its lowest disconnected
charge point id, and at the open site reports in its first chunk; a sweep of
some charge points (the incremental engine's) looks at their sites.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Min, Q

from chargepoints.models import ChargePoint, ChargePointState, Site
from reporting.catalogue import Reason
from reporting.maintenance import ActiveWindows
from reporting.models import EventKind, Report, ReportState
from reporting.services.filing import report_file_site_reports
from reporting.services.timeline import report_system_event
from reporting.services.transitions import report_resolve

from .checks import IdRange, open_system_reports
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


def _in_outage(config: HealthConfig, now: datetime, ids: IdRange, site_ids: list[int] | None = None
               ) -> dict[int, SiteStats]:
    """Site id -> its counts, for the sites in an outage (among ``site_ids``
    when given) whose lowest disconnected charge point id is in ``ids``.

    Two statements, both proportional to the trouble: the disconnected
    charge points per site (the state index), then each candidate site's
    size counted only up to the most an outage of that many could allow (a
    correlated ``LIMIT``), never every charge point of a large site."""
    outage = config.site_outage
    percent = max(outage.percent, 1)
    down = ChargePoint.objects.filter(_down(config, now))
    if site_ids is not None:
        down = down.filter(site_id__in=site_ids)
    candidates = {
        site_id: (n, first) for site_id, n, first in (
            down.order_by().values("site_id").annotate(n=Count("id"), first=Min("id"))
            .filter(n__gte=max(outage.min_charge_points, 1)).filter(ids.q("first"))
            .values_list("site_id", "n", "first")
        )
    }
    if not candidates:
        return {}
    # More charge points than this and no candidate can be in an outage.
    cap = max(n for n, _first in candidates.values()) * 100 // percent + 1
    cp_table, site_table = ChargePoint._meta.db_table, Site._meta.db_table
    match = f"s.id IN ({', '.join(['%s'] * len(candidates))})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id, s.team_id, (SELECT count(*) FROM (SELECT 1 FROM {cp_table} c WHERE c.site_id = s.id "
            f"LIMIT %s) AS capped) FROM {site_table} s WHERE {match}",
            [cap, *candidates],
        )
        rows = cursor.fetchall()
    result = {}
    for site_id, team_id, total in rows:
        n = candidates[site_id][0]
        if n * 100 >= percent * total:
            result[site_id] = SiteStats(site_id, n, total, team_id)
    return result


def _open_site_reports():
    return open_system_reports(REASON).filter(site__isnull=False)


def _scope_sites(scope: IdRange) -> list[int]:
    """The sites of a narrow scope's charge points."""
    return list(ChargePoint.objects.filter(scope.q()).order_by().values_list("site_id", flat=True).distinct())


def sites_down_charge_points(config: HealthConfig, now: datetime, site_ids) -> frozenset[int]:
    """The charge points of these sites that the disconnected check may
    file for: down longer than the site outage counts."""
    return frozenset(ChargePoint.objects.filter(_down(config, now), site_id__in=list(site_ids))
                     .values_list("pk", flat=True))


def sites_inhibited() -> set[int]:
    """Sites with an open "site offline" report: no per charge point
    disconnect is filed there."""
    return set(_open_site_reports().values_list("site_id", flat=True))


def site_outages_clear(config: HealthConfig, now: datetime, scope: IdRange) -> tuple[int, set[int]]:
    """Resolve (or annotate, when a person has it or auto-resolve is off) the
    open site reports whose site is no longer in an outage. Returns how many
    were resolved and the sites that are no longer in an outage."""
    mine = _open_site_reports()
    if scope.narrow:
        mine = mine.filter(site_id__in=_scope_sites(scope))
    elif scope.first is not None and ChargePoint.objects.filter(pk__lt=scope.first).exists():
        return 0, set()  # the first chunk of a split sweep looks after the open site reports
    mine = list(mine.values_list("pk", "site_id", "assigned_to_id", "condition_cleared_at"))
    if not mine:
        return 0, set()
    still = _in_outage(config, now, IdRange(), [row[1] for row in mine]) if config.site_outage.enabled else {}
    note = "Fewer of the site's charge points are disconnected than a site outage needs."
    resolved, back = 0, set()
    for report_id, site_id, assigned_to_id, cleared_at in mine:
        if site_id in still:
            continue
        back.add(site_id)
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
    return resolved, back


def site_outages_detect(config: HealthConfig, now: datetime, scope: IdRange, windows: ActiveWindows
                        ) -> tuple[int, int]:
    """File a "site offline" report for each site in an outage without one;
    on an open one whose condition had cleared, count the new episode. The
    caller holds the transaction. Returns (filed, still open)."""
    if not config.site_outage.enabled:
        return 0, 0
    if scope.narrow:
        sites = _scope_sites(scope)
        outages = _in_outage(config, now, IdRange(), sites) if sites else {}
    else:
        outages = _in_outage(config, now, scope)
    if not outages:
        return 0, 0
    bumped = set(
        _open_site_reports().filter(site_id__in=list(outages)).values_list("site_id", flat=True)
    )
    if bumped:
        _open_site_reports().filter(site_id__in=bumped, condition_cleared_at__isnull=False).update(
            condition_cleared_at=None, occurrences=F("occurrences") + 1, last_seen_at=now, updated_at=now)
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


def site_outages_differences(config: HealthConfig, now: datetime, windows: ActiveWindows
                             ) -> tuple[list[int], list[int]]:
    """For the reconciliation: sites in an outage with no open report (and
    no maintenance window), and open site reports, not yet annotated, whose
    site is no longer in an outage."""
    outages = _in_outage(config, now, IdRange()) if config.site_outage.enabled else {}
    open_reports = dict(_open_site_reports().values_list("site_id", "condition_cleared_at"))
    unfiled = sorted(
        site_id for site_id, stats in outages.items()
        if site_id not in open_reports
        and not (windows and (windows.by_site.get(site_id) or windows.by_team.get(stats.team_id)))
    )
    over = sorted(site_id for site_id, cleared_at in open_reports.items()
                  if site_id not in outages and cleared_at is None)
    return unfiled, over
