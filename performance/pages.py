"""What the performance pages show (both back-offices), built from the
selectors: a charge point's and a site's figures, worst causes, the 90-day
chart and the outage ledger; the team dashboard's worst charge points.
The admin views only pick the objects the viewer may see and render these."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chargepoints.models import ChargePoint, Site
from reporting.error_hints import CATALOGUE
from reporting.models import Report
from reporting.reviews import review_summary

from .ledger import ledger_attach_reports, ledger_for
from .periods import Period, period_last_days
from .selectors import figures_for, worst_by_success_rate, worst_by_uptime
from .totals import daily_uptime, totals_for

CHART_DAYS = 90
CHART_HEIGHT = 100
BAR_WIDTH = 6
WORST_CAUSES = 5
LEDGER_ROWS = 50
# A site lists each of its charge points up to this many; a bigger site
# lists this many with the lowest uptime (and says how many it has).
SITE_ROWS = 100


def cause_label(key: str) -> str:
    """A cause key ("error:GroundFailure", "stop:EmergencyStop", ...) as
    shown, with the error-hint catalogue's title of the code when it has one."""
    state, _sep, code = key.partition(":")
    names = {"error": _("Error"), "passive": _("Unavailable"), "disconnected": _("Disconnected"),
             "stop": _("Stopped"), "no_energy": _("No energy delivered"),
             "abandoned": _("Started, never stopped"), "other": _("Other")}
    label = str(names.get(state, state))
    if code:
        hint = CATALOGUE.get(code)
        title = str(hint.title) if hint is not None else ""
        label = f"{label}: {code}" + (f" ({title})" if title else "")
    return label


def _worst(counter, limit: int = WORST_CAUSES, *, minutes: bool = False) -> list[dict]:
    return [{"label": cause_label(key), "value": value / 60 if minutes else value}
            for key, value in counter.most_common(limit)]


def chart(series: list) -> dict:
    """Bars for a server-rendered SVG: the daily uptime, 0 to 100 %."""
    bars = []
    for index, (day, uptime) in enumerate(series):
        h = 0 if uptime is None else max(1, round(uptime / 100 * CHART_HEIGHT))
        bars.append({"x": index * (BAR_WIDTH + 1), "y": CHART_HEIGHT - h, "h": h, "day": day,
                     "uptime": uptime, "low": uptime is not None and uptime < 97})
    return {"bars": bars, "width": len(series) * (BAR_WIDTH + 1), "height": CHART_HEIGHT, "bar_width": BAR_WIDTH}


def charge_point_page(*, charge_point: ChargePoint, period: Period, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    one = ChargePoint.objects.filter(pk=charge_point.pk)
    figures = figures_for(charge_points=one, period=period, now=now, with_causes=True)[charge_point.pk]
    ledger = ledger_for(charge_point=charge_point, start=period.start, end=min(period.end, now))
    ledger_attach_reports(ledger, charge_point=charge_point)
    outages = sorted(((port, outage) for port, rows in ledger.ports.items() for outage in rows),
                     key=lambda item: item[1].start, reverse=True)
    reviews = review_summary(charge_point_id=charge_point.pk, limit=0)
    return {
        "figures": figures,
        "rating": reviews,
        "worst_outage_causes": _worst(figures.causes, minutes=True),
        "worst_failure_causes": _worst(figures.failures),
        "chart": chart(daily_uptime(charge_points=one, period=period_last_days(CHART_DAYS, today=now.date()),
                                    now=now)),
        "outages": [{"port": port, "outage": outage, "minutes": outage.seconds / 60,
                     "excluded_minutes": outage.excluded_seconds / 60,
                     "causes": [cause_label(c.key) for c in outage.causes()]}
                    for port, outage in outages[:LEDGER_ROWS]],
        "outages_more": max(len(outages) - LEDGER_ROWS, 0),
        "whole_outage_minutes": sum(o.seconds for o in ledger.charge_point) / 60,
    }


def open_report_counts(charge_point_ids) -> dict[int, int]:
    return dict(Report.objects.unresolved().filter(charge_point_id__in=list(charge_point_ids)).order_by()
                .values("charge_point_id").annotate(n=Count("id")).values_list("charge_point_id", "n"))


def site_rows(*, charge_points: QuerySet[ChargePoint], period: Period, now: datetime, limit: int | None = None
              ) -> tuple[list[tuple[int, object]], int]:
    """The site's charge points with their figures, lowest uptime first, and
    how many it has: all of them up to ``limit`` (``SITE_ROWS``); beyond,
    the ``limit`` with the lowest uptime below 100 % (``worst_by_uptime``)."""
    limit = SITE_ROWS if limit is None else limit
    count = charge_points.count()
    if count <= limit:
        per_cp = figures_for(charge_points=charge_points, period=period, now=now)
        ranked = sorted(per_cp.items(), key=lambda item: (101 if item[1].uptime is None else item[1].uptime, item[0]))
    else:
        ranked = worst_by_uptime(charge_points=charge_points, period=period, now=now, limit=limit)
    return ranked, count


def site_page(*, site: Site, charge_points: QuerySet[ChargePoint], period: Period, now: datetime | None = None
              ) -> dict:
    now = now or timezone.now()
    total = totals_for(charge_points=charge_points, period=period, now=now, with_causes=True)
    ranked, count = site_rows(charge_points=charge_points, period=period, now=now)
    names = dict(ChargePoint.objects.filter(pk__in=[cp_id for cp_id, _f in ranked]).values_list("pk", "name"))
    rows = sorted(({"id": cp_id, "name": names[cp_id], "figures": f} for cp_id, f in ranked),
                  key=lambda row: (row["figures"].uptime if row["figures"].uptime is not None else 101,
                                   row["name"]))
    return {
        "figures": total,
        "rows": rows,
        "rows_more": count - len(rows),
        "worst_outage_causes": _worst(total.causes, minutes=True),
        "worst_failure_causes": _worst(total.failures),
        "chart": chart(daily_uptime(charge_points=charge_points,
                                    period=period_last_days(CHART_DAYS, today=now.date()), now=now)),
    }


def dashboard_page(*, charge_points: QuerySet[ChargePoint], period: Period, now: datetime | None = None,
                   team_id: int | None = None) -> dict:
    """The 20 worst by uptime and by success rate. ``team_id``: the charge
    points are exactly the team's (``performance.teams.whole_team``), read
    by the rollups' team columns."""
    now = now or timezone.now()
    by_uptime = worst_by_uptime(charge_points=charge_points, period=period, now=now, team_id=team_id)
    by_success = worst_by_success_rate(charge_points=charge_points, period=period, now=now, team_id=team_id)
    ids = {cp_id for cp_id, _f in by_uptime} | {cp_id for cp_id, _f in by_success}
    cps = ChargePoint.objects.select_related("site").in_bulk(ids)
    reports = open_report_counts(ids)

    def rows(ranked):
        return [{"cp": cps[cp_id], "figures": f, "open_reports": reports.get(cp_id, 0)} for cp_id, f in ranked]

    return {"worst_uptime": rows(by_uptime), "worst_success": rows(by_success), "computed_at": now,
            "period_days": (min(period.end, now) - period.start) / timedelta(days=1)}
