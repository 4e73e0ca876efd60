"""Filing reports: one by hand or through the API (``report_create``), and
many at once by the health sweep (``report_file_system_bulk``,
``report_file_site_reports``), each routed to its first party by the
routing table or, for "in error", by the error hint.

Each function runs in one transaction (or the caller's), writes the
"created" timeline row beside the report, and leaves nothing written when
it raises.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Actor, Capability, can_on_charge_point
from chargepoints.models import ChargePoint

from .. import hooks
from ..bulk_sql import insert_site_reports, insert_system_reports
from ..catalogue import REASON_COUNTRIES, REASONS_BY_SOURCE, Party, Reason, Source, first_party
from ..error_hint_selectors import error_hint_for
from ..error_hints import ROUTE_TO
from ..errors import InvalidReport, NotPermitted
from ..models import EventKind, Report, ReportSettings, ReportState
from ..teams import report_teams, site_teams
from .access import report_require_speaker
from .conversation import _add_message
from .timeline import _event, report_system_events_bulk, system_event_row, system_events_written


def report_validate_reason(*, source: str, reason: str, charge_point: ChargePoint) -> None:
    """Raise InvalidReport when the reason does not fit the source or country."""
    if source not in REASONS_BY_SOURCE:
        raise InvalidReport(f"Unknown source '{source}'.", field="source")
    if reason not in Reason.values:
        raise InvalidReport(f"Unknown reason '{reason}'.", field="reason")
    if reason not in REASONS_BY_SOURCE[source]:
        raise InvalidReport(
            f"The reason '{Reason(reason).label}' cannot be used for a {Source(source).label.lower()} report.",
            field="reason",
        )
    countries = REASON_COUNTRIES.get(reason)
    if countries is not None and charge_point.site.country not in countries:
        raise InvalidReport(
            f"The reason '{Reason(reason).label}' is only for charge points in "
            f"{', '.join(sorted(countries))}; this one is in {charge_point.site.country}.",
            field="reason",
        )



@transaction.atomic
def report_create(
    *,
    charge_point: ChargePoint,
    source: str,
    reason: str,
    description: str = "",
    by: Actor | None = None,
    reporter_name: str = "",
    reporter_email: str = "",
    reporter_phone: str = "",
    messages: list[dict] | None = None,
) -> Report:
    """File a report and route it to its first party.

    ``messages`` (support reports) are the conversation so far, each a dict
    with ``sender`` ("driver" or "support"), ``author_name`` and ``body``.
    """
    if charge_point is not None:
        _current_teams(charge_point)
    report_validate_reason(source=source, reason=reason, charge_point=charge_point)
    if by is not None and not can_on_charge_point(by, Capability.COMMENT, charge_point=charge_point):
        raise NotPermitted(action="file")
    report_require_speaker(by=by, source=source, action="file")
    if messages and source != Source.SUPPORT:
        raise InvalidReport("Only support reports carry a conversation.", field="messages")

    party = first_party(source=source, charge_point=charge_point)
    if source == Source.SYSTEM and reason == Reason.IN_ERROR:
        party = _hint_parties([{"pk": charge_point.pk, "owner_id": charge_point.owner_id,
                                "operator_id": charge_point.operator_id, "vendor": charge_point.vendor,
                                "model": charge_point.model, "error_code": charge_point.error_code,
                                "vendor_error_code": charge_point.vendor_error_code}]).get(charge_point.pk, party)
    now = timezone.now()
    report = Report.objects.create(
        charge_point=charge_point,
        source=source,
        reason=reason,
        description=description,
        reported_by=by if isinstance(by, User) else None,
        reporter_name=reporter_name,
        reporter_email=reporter_email,
        reporter_phone=reporter_phone,
        assigned_party=party,
        created_at=now,
        last_seen_at=now,
        **report_teams(charge_point=charge_point),
    )
    _event(
        report,
        kind=EventKind.CREATED,
        by=by,
        to_state=ReportState.OPEN,
        to_party=party,
        note=f"Routed to the {Party(party).label.lower()} automatically.",
    )
    for message in messages or []:
        _add_message(report, by=by, **message)
    return report



def _current_teams(charge_point: ChargePoint) -> None:
    """Refresh the instance's owner and operator from the charge point's
    row, locked until the report is committed. The instance may have been
    loaded before a move (``charge_point_update`` locks the row for it and
    rewrites the reports' team columns): without this, a report filed
    meanwhile would keep the former teams, and route by them."""
    owner_id, operator_id = (
        ChargePoint.objects.select_for_update(no_key=True).filter(pk=charge_point.pk)
        .values_list("owner_id", "operator_id").get()
    )
    # Assigning the ids also drops the instance's cached owner and operator.
    charge_point.owner_id, charge_point.operator_id = owner_id, operator_id


def _hint_parties(offenders: list[dict]) -> dict[int, str]:
    """Charge point id -> party, for the "in error" offenders whose operator
    routes by the error hint (ReportSettings.route_by_error_hint): the
    catalogue's party to act, mapped by ``error_hints.ROUTE_TO``. Offenders
    without a known code, or whose operator is the owner, keep the table's
    party."""
    operator_ids = {o["operator_id"] for o in offenders if o["operator_id"] != o["owner_id"]}
    if not operator_ids:
        return {}
    routing = set(ReportSettings.objects.filter(team_id__in=operator_ids, route_by_error_hint=True)
                  .values_list("team_id", flat=True))
    parties = {}
    for o in offenders:
        if o["operator_id"] not in routing or o["operator_id"] == o["owner_id"]:
            continue
        hint = error_hint_for(vendor=o.get("vendor") or "", model=o.get("model") or "",
                              error_code=o.get("error_code") or "", vendor_error_code=o.get("vendor_error_code") or "")
        if hint is not None:
            parties[o["pk"]] = ROUTE_TO[hint["party"]]
    return parties



def report_file_system_bulk(*, reason: str, offenders: list[dict], now) -> dict[int, int]:
    """File system reports for many charge points at once (the health sweep),
    except where one is already unresolved: the database's conditional
    unique constraint decides, so two sweeps at once file each problem once.

    ``offenders``: dicts with the charge point's ``pk``, ``owner_id`` and
    ``operator_id`` and the report's ``description``. Each report goes to the
    party of the routing table (``first_party``) and its "created" timeline
    row names that same party, as ``report_create`` does for one report. The
    caller holds the transaction. Returns charge point id -> new report id."""
    by_hint = _hint_parties(offenders) if reason == Reason.IN_ERROR else {}
    rows = [
        (o["pk"], o["owner_id"], o["operator_id"], o["description"], by_hint.get(o["pk"]) or first_party(source=Source.SYSTEM, charge_point=SimpleNamespace(
            owner_id=o["owner_id"], operator_id=o["operator_id"])))
        for o in offenders
    ]
    # Each report's "created" row names its party, in the same statement.
    created, event_ids = insert_system_reports(
        reason=reason, rows=rows, now=now,
        event=system_event_row(kind=EventKind.CREATED, to_state=ReportState.OPEN),
        notes={party: _filed_note(party) for party in {row[-1] for row in rows}},
    )
    system_events_written(event_ids=event_ids, kind=EventKind.CREATED)
    for hook in hooks.system_reports_filed:
        hook(reason=reason, created=created)
    return created



def report_file_site_reports(*, reason: str, sites: list[tuple[int, str]], now) -> dict[int, int]:
    """File system reports about whole sites (the sweep's site outages),
    except where one is already unresolved. ``sites``: (site id,
    description). Routed like a disconnect: to the operator. The caller
    holds the transaction. Returns site id -> new report id."""
    party = Party.OPERATOR
    teams = site_teams(site_id for site_id, _text in sites)
    created = insert_site_reports(
        reason=reason, rows=[(site_id, teams[site_id], teams[site_id], text, party) for site_id, text in sites],
        now=now,
    )
    report_system_events_bulk(
        report_ids=list(created.values()), kind=EventKind.CREATED, to_state=ReportState.OPEN, to_party=party,
        note=_filed_note(party),
    )
    return created


def _filed_note(party: str) -> str:
    return f"Filed by the health checks and routed to the {Party(party).label.lower()} automatically."
