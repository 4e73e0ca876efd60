"""Raw SQL for writing many reports and timeline rows in one statement each
(the health sweep may file a thousand at once). Plumbing for
``reporting.services``, which owns the rules; nothing else calls these.

On PostgreSQL the varying values travel as arrays (``unnest``): one
parameter per column instead of one per value, which for a thousand rows
costs less to send than the INSERT costs to run."""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from core.pg_arrays import int_array, text_array

from .catalogue import Source
from .models import Report, ReportEvent

# Columns that differ between the reports of one INSERT; the rest are the same.
_VARYING = ("charge_point_id", "owner_team_id", "operator_team_id", "description", "assigned_party")


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def insert_system_reports(*, reason: str, rows: list[tuple[int, int, int, str, str]], now: datetime, event: dict,
                          notes: dict[str, str]) -> tuple[dict[int, int], list[int]]:
    """Insert system reports, one per (charge point id, owner team id,
    operator team id, description, party),
    except where one is already unresolved (``ON CONFLICT DO NOTHING``
    against the conditional unique constraint), and each new report's
    timeline row: ``event``'s columns, ``to_party`` the report's party and
    the note ``notes[party]``. On PostgreSQL one statement for both.
    Returns (charge point id -> new report id, the new rows' ids)."""
    if not rows:
        return {}, []
    # Every other column as a freshly made system report has it.
    template = Report(source=Source.SYSTEM, reason=reason, created_at=now, last_seen_at=now, updated_at=now)
    constant = [
        f for f in Report._meta.concrete_fields
        if not f.primary_key and f.attname not in _VARYING and not (f.null and getattr(template, f.attname) is None)
    ]
    columns = ", ".join([*_VARYING, *(f.column for f in constant)])
    constant_values = [f.get_db_prep_save(getattr(template, f.attname), connection) for f in constant]
    table = Report._meta.db_table
    if connection.vendor != "postgresql":
        row_sql = f"({_placeholders(_VARYING + tuple(constant))})"
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(rows))} "
                "ON CONFLICT DO NOTHING RETURNING charge_point_id, id",
                [value for row in rows for value in (*row, *constant_values)],
            )
            created = dict(cursor.fetchall())
        party_of = {row[0]: row[-1] for row in rows}
        event_ids = []
        for party in sorted({party_of[cp_id] for cp_id in created}):
            report_ids = [report_id for cp_id, report_id in created.items() if party_of[cp_id] == party]
            event_ids += insert_events(report_ids, {**event, "to_party": party, "note": notes[party]}).values()
        return created, event_ids
    # The event's columns but the two that vary with the report's party.
    fixed = {name: value for name, value in event.items() if name not in ("to_party", "note")}
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH filed AS (INSERT INTO {table} ({columns}) "
            f"SELECT v.cp, v.owner_team, v.operator_team, v.description, v.party, {_placeholders(constant)} "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::text[]) "
            "AS v(cp, owner_team, operator_team, description, party) "
            "ORDER BY v.cp ON CONFLICT DO NOTHING RETURNING charge_point_id, id, assigned_party), "
            f"timeline AS (INSERT INTO {ReportEvent._meta.db_table} (report_id, {', '.join(fixed)}, to_party, note) "
            f"SELECT f.id, {_placeholders(fixed)}, f.assigned_party, n.note FROM filed f "
            "JOIN unnest(%s::text[], %s::text[]) AS n(party, note) ON n.party = f.assigned_party "
            "RETURNING report_id, id) "
            "SELECT f.charge_point_id, f.id, t.id FROM filed f JOIN timeline t ON t.report_id = f.id",
            [*constant_values, *_row_arrays(rows),
             *(ReportEvent._meta.get_field(name).get_db_prep_save(value, connection) for name, value in fixed.items()),
             text_array(notes), text_array(notes.values())],
        )
        found = cursor.fetchall()
    return {cp_id: report_id for cp_id, report_id, _event_id in found}, [event_id for _cp, _r, event_id in found]


def _row_arrays(rows: list[tuple[int, int, int, str, str]]) -> list[str]:
    """The varying columns as array literals (``core.pg_arrays``)."""
    cps, owners, operators, descriptions, parties = zip(*rows, strict=True)
    return [int_array(cps), int_array(owners), int_array(operators), text_array(descriptions), text_array(parties)]


def insert_events(report_ids: list[int], row: dict) -> dict[int, int]:
    """The same timeline row for each report. Report id -> the new row's id."""
    if connection.vendor != "postgresql":
        events = ReportEvent.objects.bulk_create([ReportEvent(report_id=rid, **row) for rid in report_ids])
        return {event.report_id: event.pk for event in events}
    columns = ["report_id", *row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ReportEvent._meta.db_table} ({', '.join(columns)}) "
            f"SELECT r, {', '.join(['%s'] * len(row))} FROM unnest(%s::bigint[]) AS r "
            "RETURNING report_id, id",
            [*(ReportEvent._meta.get_field(name).get_db_prep_save(value, connection) for name, value in row.items()),
             int_array(report_ids)],
        )
        return dict(cursor.fetchall())


def insert_site_reports(*, reason: str, rows: list[tuple[int, int, int, str, str]], now: datetime) -> dict[int, int]:
    """Insert system reports about sites, one per (site id, owner team id,
    operator team id, description, party), except where one is already unresolved (``ON CONFLICT DO
    NOTHING`` against ``report_one_unresolved_site_report``). Site id -> new
    report id. Sites in an outage are few: one VALUES list on every backend."""
    if not rows:
        return {}
    varying = ("site_id", "owner_team_id", "operator_team_id", "description", "assigned_party")
    template = Report(source=Source.SYSTEM, reason=reason, created_at=now, last_seen_at=now, updated_at=now)
    constant = [
        f for f in Report._meta.concrete_fields
        if not f.primary_key and f.attname not in varying and not (f.null and getattr(template, f.attname) is None)
    ]
    columns = ", ".join([*varying, *(f.column for f in constant)])
    constant_values = [f.get_db_prep_save(getattr(template, f.attname), connection) for f in constant]
    row_sql = f"({_placeholders(varying + tuple(constant))})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Report._meta.db_table} ({columns}) VALUES {', '.join([row_sql] * len(rows))} "
            "ON CONFLICT DO NOTHING RETURNING site_id, id",
            [value for row in sorted(rows) for value in (*row, *constant_values)],
        )
        return dict(cursor.fetchall())
