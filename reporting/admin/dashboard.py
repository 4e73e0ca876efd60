"""The admin index of both sites: a dashboard of the reports the user may see.

Open (unresolved) reports by reason and by party, the oldest open report,
reports filed per day over the last 30 days as a server-side bar chart, and
the charge points with the most reports in those 30 days. Every figure is one
grouped query; the result is cached for a minute per set of visible teams, so
reloading the index of a large installation stays cheap.
"""

from __future__ import annotations

import datetime

from django.core.cache import cache
from django.db.models import Count, Min
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import visible_team_ids
from chargepoints.models import ChargePoint
from reporting.catalogue import Party, Reason
from reporting.models import Report

DAYS = 30
TOP_CHARGE_POINTS = 10
CACHE_SECONDS = 60


def dashboard_context(request, *, site) -> dict:
    user = request.user
    team_ids = visible_team_ids(user)
    key = f"admin-dashboard:{site.name}:{'all' if team_ids is None else ','.join(map(str, sorted(team_ids)))}"
    data = cache.get(key)
    if data is None:
        data = _figures(user)
        cache.set(key, data, CACHE_SECONDS)
    changelist = reverse(f"{site.name}:reporting_report_changelist")
    return _with_links(data, changelist=changelist, site=site)


def _figures(user) -> dict:
    reports = Report.objects.for_user(user)
    unresolved = reports.unresolved()
    now = timezone.now()
    today = now.date()
    start = today - datetime.timedelta(days=DAYS - 1)
    start_at = datetime.datetime.combine(start, datetime.time.min, datetime.UTC)

    # One pass over the unresolved reports gives both breakdowns.
    reason_counts: dict[str, int] = {}
    party_counts: dict[str, int] = {}
    for row in unresolved.order_by().values("reason", "assigned_party").annotate(n=Count("id")):
        reason_counts[row["reason"]] = reason_counts.get(row["reason"], 0) + row["n"]
        party_counts[row["assigned_party"]] = party_counts.get(row["assigned_party"], 0) + row["n"]
    by_reason = [
        {"reason": reason, "label": str(Reason(reason).label), "count": n}
        for reason, n in sorted(reason_counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    by_party = [
        {"party": party, "label": str(Party(party).label), "count": n}
        for party, n in sorted(party_counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    # MIN first, then the row: for a team, ORDER BY created_at LIMIT 1 walks
    # the date index through every other team's reports (seconds on a
    # million rows); the aggregate reads the team's own rows instead.
    oldest_at = unresolved.aggregate(at=Min("created_at"))["at"]
    oldest = None
    if oldest_at is not None:
        oldest = (
            unresolved.filter(created_at=oldest_at)
            .order_by("id")
            .select_related("charge_point__site")
            .only("id", "state", "created_at", "reason", "charge_point__name", "charge_point__ocpp_id",
                  "charge_point__site__name")
            .first()
        )
    per_day_rows = dict(
        reports.filter(created_at__gte=start_at)
        .order_by()
        .annotate(day=TruncDate("created_at", tzinfo=datetime.UTC))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    per_day = [
        {"day": start + datetime.timedelta(days=i), "count": per_day_rows.get(start + datetime.timedelta(days=i), 0)}
        for i in range(DAYS)
    ]
    top_rows = list(
        reports.filter(created_at__gte=start_at)
        .order_by()
        .values("charge_point_id")
        .annotate(n=Count("id"))
        .order_by("-n", "charge_point_id")[:TOP_CHARGE_POINTS]
    )
    names = {
        cp.pk: cp
        for cp in ChargePoint.objects.filter(pk__in=[r["charge_point_id"] for r in top_rows])
        .select_related("site")
        .only("id", "name", "ocpp_id", "site__name")
    }
    top = [
        {"id": r["charge_point_id"], "name": names[r["charge_point_id"]].name,
         "ocpp_id": names[r["charge_point_id"]].ocpp_id, "site": names[r["charge_point_id"]].site.name,
         "count": r["n"]}
        for r in top_rows
        if r["charge_point_id"] in names
    ]
    return {
        "open_total": sum(row["count"] for row in by_party),
        "by_reason": by_reason,
        "by_party": by_party,
        "oldest": None if oldest is None else {
            "id": oldest.pk,
            "created_at": oldest.created_at,
            "reason": str(Reason(oldest.reason).label),
            "charge_point": oldest.charge_point.name if oldest.charge_point_id else "no charge point yet",
            "site": oldest.charge_point.site.name if oldest.charge_point_id else "—",
        },
        "per_day": per_day,
        "per_day_total": sum(d["count"] for d in per_day),
        "top_charge_points": top,
        "computed_at": now,
    }


def _with_links(data: dict, *, changelist: str, site) -> dict:
    data = {**data}
    peak = max((d["count"] for d in data["per_day"]), default=0)
    chart_height = 120
    bar_width = 18
    data["chart"] = {
        "height": chart_height,
        "width": bar_width * len(data["per_day"]),
        "peak": peak,
        "bars": [
            {
                **d,
                "x": i * bar_width,
                "h": 0 if not peak else max(1, round(d["count"] / peak * (chart_height - 20))),
                "label_day": d["day"].strftime("%d %b"),
            }
            for i, d in enumerate(data["per_day"])
        ],
    }
    for bar in data["chart"]["bars"]:
        bar["y"] = chart_height - bar["h"]
    data["by_reason"] = [
        {**row, "url": f"{changelist}?state=unresolved&reason__exact={row['reason']}"} for row in data["by_reason"]
    ]
    data["by_party"] = [
        {**row, "url": f"{changelist}?state=unresolved&assigned_party__exact={row['party']}"}
        for row in data["by_party"]
    ]
    if data["oldest"]:
        data["oldest"] = {
            **data["oldest"],
            "url": reverse(f"{site.name}:reporting_report_change", args=[data["oldest"]["id"]]),
        }
    data["top_charge_points"] = [
        {**row, "url": f"{changelist}?q={row['ocpp_id']}",
         "cp_url": reverse(f"{site.name}:chargepoints_chargepoint_change", args=[row["id"]])}
        for row in data["top_charge_points"]
    ]
    data["open_url"] = f"{changelist}?state=unresolved"
    return data
