"""The admin index of both sites: a dashboard of the reports the user may see.

Open (unresolved) reports by reason and by party, the oldest open report,
reports filed per day over the last 30 days as a server-side bar chart, and
the charge points with the most reports in those 30 days. Every figure is one
grouped query; the result is cached for a minute per set of visible teams, so
reloading the index of a large installation stays cheap.
"""

from __future__ import annotations

from django.core.cache import cache
from django.urls import reverse

from accounts.permissions import visible_team_ids
from reporting.selectors import report_dashboard_figures

CACHE_SECONDS = 60


def dashboard_context(request, *, site) -> dict:
    user = request.user
    team_ids = visible_team_ids(user)
    key = f"admin-dashboard:{site.name}:{'all' if team_ids is None else ','.join(map(str, sorted(team_ids)))}"
    data = cache.get(key)
    if data is None:
        data = report_dashboard_figures(actor=user)
        cache.set(key, data, CACHE_SECONDS)
    changelist = reverse(f"{site.name}:reporting_report_changelist")
    return _with_links(data, changelist=changelist, site=site)


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
    data["breached_url"] = f"{changelist}?target=breached"
    data["at_risk_url"] = f"{changelist}?target=at_risk"
    return data
