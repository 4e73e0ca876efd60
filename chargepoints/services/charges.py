"""Charges and their outcome: the one failed-charge rule
(``charge_failure_reason``), storing the charges of a batch with it, and
failing the charges an error reported late interrupted.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import connection
from django.db.models import Q

from ..charging import ABANDONED_STOP_REASON
from ..models import Charge, ChargeOutcome, ChargePointState, StateChange
from ..telemetry_validation import FAULT_STOP_REASONS
from .rows import _insert_returning


def charge_failure_reason(*, energy_wh: int, stop_reason: str, went_to_error: bool) -> str:
    """Why a charge failed, or "" when it did not. The brief's definition, in
    one place: it was abandoned (``chargepoints.charging``: started, never
    stopped), ended without delivering energy, stopped for a fault reason,
    or its charge point went to error during it."""
    if stop_reason == ABANDONED_STOP_REASON:
        return "Started but never stopped."
    if energy_wh <= 0:
        return "No energy was delivered."
    if stop_reason in FAULT_STOP_REASONS:
        return f"Stopped for a fault reason ({stop_reason})."
    if went_to_error:
        return "The charge point went to error during the charge."
    return ""


def _fail_interrupted_charges(items: list[dict]) -> None:
    """An error reported late still fails the charges it interrupted."""
    errors = [(c["charge_point_id"], c["occurred_at"]) for c in items if c["state"] == ChargePointState.ERROR]
    if not errors:
        return
    failure = charge_failure_reason(energy_wh=1, stop_reason="", went_to_error=True)
    if connection.vendor == "postgresql":
        # A join on the errors rather than an OR of one condition per error.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Charge._meta.db_table} AS c SET outcome = %s, failure_reason = %s "
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS e(cp, at) "
                "WHERE c.charge_point_id = e.cp AND c.started_at <= e.at AND c.ended_at >= e.at "
                "AND c.outcome = %s",
                [ChargeOutcome.FAILED, failure, [cp for cp, _ in errors], [at for _, at in errors],
                 ChargeOutcome.COMPLETED],
            )
        return
    spans = Q()
    for cp_id, at in errors:
        spans |= Q(charge_point_id=cp_id, started_at__lte=at, ended_at__gte=at)
    Charge.objects.filter(spans, outcome=ChargeOutcome.COMPLETED).update(
        outcome=ChargeOutcome.FAILED, failure_reason=failure
    )


def _decide_outcomes(items: list[dict]) -> None:
    """Set each charge's ``outcome`` and ``failure_reason`` (in the clean
    dicts) by ``charge_failure_reason``, the charge point's errors during
    the charge read with one query."""
    # Errors of these charge points over the batch's whole time span (one
    # range on the partial error index); which charge each fell in is
    # decided below.
    errors_by_cp: dict[int, list[datetime]] = defaultdict(list)
    for cp_id, at in StateChange.objects.filter(
        charge_point_id__in={c["charge_point_id"] for c in items},
        state=ChargePointState.ERROR,
        occurred_at__gte=min(c["started_at"] for c in items),
        occurred_at__lte=max(c["ended_at"] for c in items),
    ).values_list("charge_point_id", "occurred_at"):
        errors_by_cp[cp_id].append(at)
    for c in items:
        went_to_error = any(c["started_at"] <= at <= c["ended_at"] for at in errors_by_cp[c["charge_point_id"]])
        c["failure_reason"] = charge_failure_reason(
            energy_wh=c["energy_wh"], stop_reason=c["stop_reason"], went_to_error=went_to_error
        )
        c["outcome"] = ChargeOutcome.FAILED if c["failure_reason"] else ChargeOutcome.COMPLETED


def _insert_charges(items: list[dict], *, now: datetime) -> set[tuple[int, str]]:
    """PostgreSQL: the charges with their outcome in one ``INSERT ... SELECT
    ... ON CONFLICT DO NOTHING RETURNING`` (no model instances); the
    (charge point, event id) of those inserted, the others were recorded
    before."""
    if not items:
        return set()
    _decide_outcomes(items)
    return _insert_returning(
        Charge, "started_at, ended_at, energy_wh, stop_reason, transaction_id, connector, outcome, failure_reason",
        "r.started, r.ended, r.wh, r.stop, r.tx, r.connector, r.outcome, r.failure",
        "started timestamptz, ended timestamptz, wh integer, stop text, tx text, connector smallint, outcome text,"
        " failure text",
        [{"cp": c["charge_point_id"], "id": c["event_id"], "started": c["started_at"].isoformat(),
          "ended": c["ended_at"].isoformat(), "wh": c["energy_wh"], "stop": c["stop_reason"],
          "tx": c["transaction_id"], "connector": c.get("connector"), "outcome": c["outcome"],
          "failure": c["failure_reason"]} for c in items],
        now,
    )


def _store_charges(items: list[dict], *, now: datetime) -> None:
    """Other databases: the charges already found new, with bulk_create."""
    if not items:
        return
    _decide_outcomes(items)
    Charge.objects.bulk_create(
        [
            Charge(
                charge_point_id=c["charge_point_id"],
                event_id=c["event_id"],
                started_at=c["started_at"],
                ended_at=c["ended_at"],
                energy_wh=c["energy_wh"],
                stop_reason=c["stop_reason"],
                transaction_id=c["transaction_id"],
                connector=c.get("connector"),
                outcome=c["outcome"],
                failure_reason=c["failure_reason"],
                received_at=now,
            )
            for c in items
        ],
        ignore_conflicts=True,
    )
