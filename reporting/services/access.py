"""Who may act on a report: a capability checked on the report's charge
point, or for a report about a site, on every team with a stake in the
site; and who may speak for support in a conversation.
"""

from __future__ import annotations

from accounts.permissions import Actor, Capability, best_role, can_on_charge_point, is_support, role_allows
from chargepoints.models import ChargePoint, Site

from ..catalogue import Source
from ..errors import NotPermitted
from ..models import Report, ReportMessage


def report_allows(actor: Actor | None, capability: Capability, report: Report) -> bool:
    """Whether the actor holds the capability on this report: by its charge
    point, or for a report about a site, by the site."""
    if report.charge_point_id is None and report.site_id is not None:
        return report_site_allows(actor, capability, site_id=report.site_id)
    return can_on_charge_point(actor, capability, charge_point=report.charge_point)



def _require(by: Actor | None, capability: Capability, report: Report, action: str) -> None:
    if not report_allows(by, capability, report):
        raise NotPermitted(action=action)



def report_site_allows(actor: Actor | None, capability: Capability, *, site_id: int) -> bool:
    """On a report about a site, a member's role counts in the site's team
    and in every team owning or operating a charge point there."""
    if actor is None or is_support(actor):
        return True
    return role_allows(best_role(actor, list(report_site_team_ids(site_id=site_id))), capability)



def report_site_team_ids(*, site_id: int) -> set[int]:
    """The site's team and every team owning or operating a charge point there."""
    team_ids = set(Site.objects.filter(pk=site_id).values_list("team_id", flat=True))
    for owner_id, operator_id in ChargePoint.objects.filter(site_id=site_id).values_list("owner_id", "operator_id"):
        team_ids.update((owner_id, operator_id))
    return team_ids



def report_require_speaker(*, by: Actor | None, source: str = "", sender: str = "", action: str) -> None:
    """Support reports and the support side of their conversation belong to
    support staff (and the system): a team's people and keys file user
    reports and relay the driver's side only. /operator/ offers nothing
    else; this makes the API and the admin refuse alike."""
    speaks_for_support = source == Source.SUPPORT or sender == ReportMessage.Sender.SUPPORT
    if speaks_for_support and by is not None and not is_support(by):
        refusal = NotPermitted(action=action)
        refusal.message = "Only support staff file support reports and write as support in a conversation."
        refusal.args = (refusal.message,)
        raise refusal
