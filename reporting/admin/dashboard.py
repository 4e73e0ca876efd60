"""The admin index of both sites: a dashboard of the reports the user may see.

Open (unresolved) reports by reason and by party, the oldest open report,
reports filed per day over the last 30 days as a server-side bar chart, and
the charge points with the most reports in those 30 days, and the
response-target counts. The figures come from the report tallies
(``reporting/tallies.py``: a few hundred summary rows, whatever the number of
reports); the result is cached for a minute per set of visible teams.

Above the figures, "Start here" (``start_here``): what this login should look
at first (a hint by role: support, owner, admin, installer, viewer), the
newest reports it may see and its own work, read fresh on every load.
"""

from __future__ import annotations

from django.core.cache import cache
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.permissions import best_role, is_support, visible_team_ids
from accounts.templatetags.backoffice import ago_text
from reporting.catalogue import Party, Reason, Source
from reporting.models import ReportState
from reporting.selectors import report_dashboard_figures, report_start_here

from .badges import SOURCE_COLOURS, STATE_COLOURS
from .report_list import label_of

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
    data = _with_links(data, changelist=changelist, site=site)
    data["start"] = start_here(user, site=site, changelist=changelist)
    return data


# What to look at first, by who is looking: (the hint, the heading of "my work",
# its empty state). Support has a queue of its own; a team member has the
# reports assigned to them by name.
FIRST_LOOK = {
    "support": (
        _("Start with the newest reports of every team, then the support queue: the drivers' conversations "
        "by e-mail and the reports routed to support. The inbox (Notifications) shows every e-mail sent."),
        _("Waiting for support"),
        _("Nothing is waiting for support: no open conversation, no report routed to support."),
    ),
    Role.OWNER: (
        _("Start with your teams' newest reports: assign each to the person who should act, or resolve it. "
        "As the owner you also manage the team's memberships."),
        _("Assigned to you"),
        _("Nothing is assigned to you by name. Reports your team assigns to you appear here."),
    ),
    Role.ADMIN: (
        _("Start with your teams' newest reports: assign each to the person who should act, or resolve it. "
        "Reports → Settings says who is e-mailed about new reports."),
        _("Assigned to you"),
        _("Nothing is assigned to you by name. Reports your team assigns to you appear here."),
    ),
    Role.INSTALLER: (
        _("Start with your work: the reports assigned to you. Comment on them as you go, and resolve each "
        "with a note when it is fixed."),
        _("Your work"),
        _("Nothing is assigned to you. When an admin assigns you a report, it appears here."),
    ),
    Role.VIEWER: (
        _("You can follow your teams' reports and charge points; changing them takes an installer or an admin."),
        _("Assigned to you"),
        _("Viewers are not assigned reports; the newest reports are on the left."),
    ),
}
NO_REPORTS = _(
    "No reports yet. The health checks file one when a charge point stays disconnected or in error, fails "
    "charges or has a weak signal; drivers file them from the page behind the charge point's QR sticker."
)


def start_here(user, *, site, changelist: str) -> dict:
    """The dashboard's first panel: a hint for this login, the newest reports
    and the user's own work, with links (fresh on every load)."""
    rows = report_start_here(actor=user)
    if is_support(user):
        who = "support"
        work_url = f"{changelist}?state=unresolved&assigned_party__exact={Party.SUPPORT}"
        more_label = _("The whole support queue →")
    else:
        who = best_role(user, list(user.roles_by_team())) or Role.VIEWER
        work_url = f"{changelist}?state=unresolved"
        more_label = _("All open reports →")
    hint, work_title, work_empty = FIRST_LOOK[who]
    now = timezone.now()

    def row(report) -> dict:
        cp = report.charge_point
        return {
            "id": report.pk,
            "url": reverse(f"{site.name}:reporting_report_change", args=[report.pk]),
            "reason": label_of(Reason, report.reason),
            "source": label_of(Source, report.source),
            "state": report.state,
            "state_label": label_of(ReportState, report.state),
            "charge_point": f"{cp.name} ({cp.ocpp_id})" if cp else _("no charge point yet"),
            "age": ago_text(report.created_at, now),
            "state_variant": STATE_COLOURS.get(report.state, ""),
            "source_variant": SOURCE_COLOURS.get(report.source, ""),
        }

    return {
        "hint": hint,
        "newest": [row(r) for r in rows["newest"]],
        "newest_url": changelist,
        "newest_empty": NO_REPORTS,
        "mine": [row(r) for r in rows["mine"]],
        "mine_more": rows["mine_more"],
        "mine_title": work_title,
        "mine_empty": work_empty,
        "mine_url": work_url,
        "mine_more_label": more_label,
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
                "label_day": date_filter(d["day"], "j M"),
            }
            for i, d in enumerate(data["per_day"])
        ],
    }
    for bar in data["chart"]["bars"]:
        bar["y"] = chart_height - bar["h"]
    # Labels from the codes, in the reader's language (the figures are cached for everyone).
    data["by_reason"] = [
        {**row, "label": label_of(Reason, row["reason"]),
         "url": f"{changelist}?state=unresolved&reason__exact={row['reason']}"} for row in data["by_reason"]
    ]
    data["by_party"] = [
        {**row, "label": label_of(Party, row["party"]),
         "url": f"{changelist}?state=unresolved&assigned_party__exact={row['party']}"}
        for row in data["by_party"]
    ]
    if data["oldest"]:
        oldest = data["oldest"]
        data["oldest"] = {
            **oldest,
            "reason": label_of(Reason, oldest["reason_code"]) if "reason_code" in oldest else oldest["reason"],
            "url": reverse(f"{site.name}:reporting_report_change", args=[data["oldest"]["id"]]),
        }
    data["top_charge_points"] = [
        {**row, "url": f"{changelist}?state=all&q={row['ocpp_id']}",
         "cp_url": reverse(f"{site.name}:chargepoints_chargepoint_change", args=[row["id"]])}
        for row in data["top_charge_points"]
    ]
    data["open_url"] = f"{changelist}?state=unresolved"
    data["breached_url"] = f"{changelist}?target=breached"
    data["at_risk_url"] = f"{changelist}?target=at_risk"
    return data
