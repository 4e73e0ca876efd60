"""The dashboards' tallies (``reporting/tally_models.py``): how they are
kept, folded, rebuilt and checked.

Kept by the database, not by Django. Triggers on ``reporting_report``
(migration reporting/0025) append a row to ``ReportTallyDelta`` for every
insert, delete, and update of a column the tallies group by (teams, site,
charge point, filing time, source, reason, state, party), in the
transaction that made the change. So every writer is covered: the
services, ``QuerySet.update``, the health sweep's raw ``INSERT ... ON
CONFLICT``, a move's bulk rewrite of team columns, a ``COPY``, a deletion
in the shell, and whatever writes reports next. Keeping the tallies in
Django code instead would need every one of those writers to remember it.

Appended, not added in place. A trigger that added to a shared counter row
would make every transaction filing a report of the same team, day and
reason wait for the previous one to commit (the sweeps file thousands at
once), and two transactions touching two counters in opposite orders
would deadlock. An append never waits. The fold (``tallies_fold``) takes
the appended rows away (``DELETE ... RETURNING``: exactly the rows it
adds, whatever commits meanwhile) and adds them to the tallies, one fold
at a time (it locks ``ReportTallyState``'s row). It runs every minute
(beat task ``reporting.tallies_fold``) and before a dashboard reads, so the
dashboard is exact as of its read; when nothing changed it reads one row
and one index entry.

On PostgreSQL the insert trigger is per statement (one grouped INSERT for a
sweep's thousand reports), the update trigger per row but only when a
grouped column changed (the sweep's occurrence bumps skip it without
calling anything), and ``TRUNCATE`` empties the tallies too. SQLite has
row triggers only; its writers take turns anyway.

``tallies_rebuild`` recomputes everything from the reports (the migration's
backfill, ``manage.py report_tallies --rebuild``); ``tallies_verify``
compares the tallies with a recomputation and returns the differences
(``manage.py report_tallies --check``).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from .models import (
    ReportChargePointDay,
    ReportChargePointRecent,
    ReportDayTally,
    ReportHourTally,
    ReportOpenTally,
    ReportState,
    ReportTallyDelta,
    ReportTallyState,
)

# The dashboard's window: reports filed per day and the top charge points
# are over this many days, today (UTC) included.
WINDOW_DAYS = 30

EPOCH = datetime.date(1970, 1, 1)
RESOLVED = ReportState.RESOLVED.value

REPORT = "reporting_report"
TEAMS = ("owner_team_id", "operator_team_id", "site_id")
OPEN_KEY = (*TEAMS, "source", "reason", "state", "assigned_party")
DAY_KEY = ("day", *TEAMS, "source", "state")
HOUR_KEY = ("hour", *TEAMS, "source", "state")
CP_DAY_KEY = ("day", "charge_point_id", "owner_team_id", "operator_team_id")
CP_RECENT_KEY = ("charge_point_id", "owner_team_id", "operator_team_id")


def day_number(day: datetime.date) -> int:
    return (day - EPOCH).days


def hour_number(at: datetime.datetime) -> int:
    return int(at.timestamp() // 3600)


def window_start(today: datetime.date | None = None) -> int:
    """The first day of the dashboard's window, as a day number."""
    today = today or timezone.now().astimezone(datetime.UTC).date()
    return day_number(today) - (WINDOW_DAYS - 1)


def hour_sql(column: str) -> str:
    """The hour (since 1970, UTC) of a timestamp column, in this database's SQL.
    SQLite's ``strftime('%s')`` reads the UTC text Django stores; the SQL
    must then run without parameters (no ``%`` placeholders)."""
    if connection.vendor == "postgresql":
        return f"floor(extract(epoch FROM {column}) / 3600)::bigint"
    return f"(CAST(strftime('%s', {column}) AS INTEGER) / 3600)"


# --- recomputing from the reports ------------------------------------------------


def _grouped_sql(table: str, *, since: int) -> str:
    """A SELECT of ``table``'s rows (key columns then n) computed from the reports."""
    teams = ("COALESCE(owner_team_id, 0)", "COALESCE(operator_team_id, 0)", "COALESCE(site_id, 0)")
    hour = hour_sql("created_at")
    unresolved = f"state <> '{RESOLVED}'"
    if table == ReportOpenTally._meta.db_table:
        select, where, width = [*teams, "source", "reason", "state", "assigned_party"], unresolved, 7
    elif table == ReportDayTally._meta.db_table:
        select, where, width = [f"{hour} / 24", *teams, "source", "state"], "1 = 1", 6
    elif table == ReportHourTally._meta.db_table:
        select, where, width = [hour, *teams, "source", "state"], unresolved, 6
    elif table == ReportChargePointDay._meta.db_table:
        select = [f"{hour} / 24", "charge_point_id", teams[0], teams[1]]
        where, width = f"charge_point_id IS NOT NULL AND {hour} >= {int(since) * 24}", 4
    elif table == ReportChargePointRecent._meta.db_table:
        select = ["charge_point_id", teams[0], teams[1]]
        where, width = f"charge_point_id IS NOT NULL AND {hour} >= {int(since) * 24}", 3
    else:
        raise ValueError(table)
    groups = ", ".join(str(i) for i in range(1, width + 1))
    return f"SELECT {', '.join(select)}, COUNT(*) FROM {REPORT} WHERE {where} GROUP BY {groups}"


TALLIES = {
    ReportOpenTally._meta.db_table: OPEN_KEY,
    ReportDayTally._meta.db_table: DAY_KEY,
    ReportHourTally._meta.db_table: HOUR_KEY,
    ReportChargePointDay._meta.db_table: CP_DAY_KEY,
    ReportChargePointRecent._meta.db_table: CP_RECENT_KEY,
}


def tallies_rebuild(*, today: datetime.date | None = None,
                    progress: Callable[[str], object] | None = None) -> None:
    """Recompute every tally from the reports, in one transaction that keeps
    other writers of reports waiting (PostgreSQL: ``SHARE`` lock; readers go
    on). For the migration's backfill and ``manage.py report_tallies
    --rebuild``; ``progress`` is called with each table's name once done."""
    since = window_start(today)
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {REPORT} IN SHARE MODE")
            cursor.execute(f"DELETE FROM {ReportTallyDelta._meta.db_table}")
            for table, key in TALLIES.items():
                cursor.execute(f"DELETE FROM {table}")
                cursor.execute(f"INSERT INTO {table} ({', '.join(key)}, n) {_grouped_sql(table, since=since)}")
                if progress:
                    progress(table)
            # In SQL: the migration's backfill runs this against its own schema.
            state = ReportTallyState._meta.db_table
            cursor.execute(f"DELETE FROM {state}")
            cursor.execute(f"INSERT INTO {state} (id, since, folded_at) VALUES (1, %s, %s)",
                           [since, ReportTallyState._meta.get_field("folded_at").get_db_prep_save(
                               timezone.now(), connection)])


def tallies_verify() -> list[str]:
    """Compare every tally, with the changes not folded yet, against a
    recomputation from the reports: one line per difference (empty when
    they agree). One snapshot for all of it (PostgreSQL: ``REPEATABLE
    READ``), so writers carry on and a change made meanwhile is no
    difference. Reads every report."""
    differences = []
    outermost = not connection.in_atomic_block  # inside a caller's transaction, its isolation holds
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql" and outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(f"SELECT since FROM {ReportTallyState._meta.db_table} WHERE id = 1")
        found = cursor.fetchone()
        if found is None:
            return ["the tallies were never built: run manage.py report_tallies --rebuild"]
        since = found[0]
        cursor.execute(f"SELECT {_DELTA} FROM {ReportTallyDelta._meta.db_table}")
        pending = _added_up(cursor.fetchall(), since)
        for table, key in TALLIES.items():
            cursor.execute(_grouped_sql(table, since=since))
            expected = {tuple(row[:-1]): row[-1] for row in cursor.fetchall()}
            cursor.execute(f"SELECT {', '.join(key)}, n FROM {table}")
            actual = defaultdict(int, {tuple(row[:-1]): row[-1] for row in cursor.fetchall()})
            for row_key, n in pending[table].items():
                actual[row_key] += n
            for row_key in sorted(set(expected) | set(actual), key=repr):
                if expected.get(row_key, 0) != actual.get(row_key, 0):
                    differences.append(f"{table} {dict(zip(key, row_key, strict=True))}: "
                                       f"{actual.get(row_key, 0)} counted, {expected.get(row_key, 0)} reports")
    return differences


# --- folding the appended changes -------------------------------------------------


def _upsert(cursor, table: str, key: tuple[str, ...], counts: dict[tuple, int]) -> None:
    rows = [(*row_key, n) for row_key, n in counts.items() if n]
    if not rows:
        return
    columns = ", ".join(key)
    cursor.executemany(
        f"INSERT INTO {table} ({columns}, n) VALUES ({', '.join(['%s'] * (len(key) + 1))}) "
        f"ON CONFLICT ({columns}) DO UPDATE SET n = {table}.n + excluded.n",
        rows,
    )


def tallies_fold(*, today: datetime.date | None = None) -> int:
    """Add the appended changes to the tallies and move the top charge
    points' window to ``today`` (default: today, UTC). Returns how many
    appended rows it took. Safe to run twice at once: the second waits for
    the first, then finds what is left."""
    since = window_start(today)
    state = ReportTallyState.objects.filter(pk=1).values_list("since", flat=True).first()
    if state == since and not ReportTallyDelta.objects.exists():
        return 0
    with transaction.atomic():
        # A write first: it locks the state row on PostgreSQL and takes the
        # write lock on SQLite, so the reads below cannot go stale.
        if not ReportTallyState.objects.filter(pk=1).update(folded_at=timezone.now()):
            tallies_rebuild(today=today)  # never built (or emptied by a flush)
            return 0
        state_since = ReportTallyState.objects.get(pk=1).since
        if state_since > since:  # the window moved back (clock, setting): count it again
            tallies_rebuild(today=today)
            return 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                taken = _fold_postgresql(cursor, state_since)
            else:
                taken = _fold_portable(cursor, state_since)
            if taken:
                for table in (ReportOpenTally, ReportDayTally, ReportHourTally):  # partial indexes on n = 0
                    cursor.execute(f"DELETE FROM {table._meta.db_table} WHERE n = 0")
            if state_since < since:
                _roll(cursor, since)
        ReportTallyState.objects.filter(pk=1).update(since=since)
    return taken


_DELTA = ("owner_team_id, operator_team_id, site_id, charge_point_id, hour, source, reason, state, "
          "assigned_party, n")


def _fold_postgresql(cursor, since: int) -> int:
    """One statement: take the appended rows and add them, grouped, to each tally."""

    def add(table: str, key: tuple[str, ...], select: str, where: str = "TRUE") -> str:
        width = ", ".join(str(i) for i in range(1, len(key) + 1))
        columns = ", ".join(key)
        return (f"INSERT INTO {table} ({columns}, n) SELECT {select}, SUM(n) FROM moved WHERE {where} "
                f"GROUP BY {width} HAVING SUM(n) <> 0 "
                f"ON CONFLICT ({columns}) DO UPDATE SET n = {table}.n + excluded.n")

    unresolved = f"state <> '{RESOLVED}'"
    in_window = f"charge_point_id <> 0 AND hour >= {int(since) * 24}"
    parts = [
        add(ReportOpenTally._meta.db_table, OPEN_KEY, ", ".join(OPEN_KEY), unresolved),
        add(ReportDayTally._meta.db_table, DAY_KEY, "hour / 24, " + ", ".join(DAY_KEY[1:])),
        add(ReportHourTally._meta.db_table, HOUR_KEY, ", ".join(HOUR_KEY), unresolved),
        add(ReportChargePointDay._meta.db_table, CP_DAY_KEY, "hour / 24, " + ", ".join(CP_DAY_KEY[1:]), in_window),
        add(ReportChargePointRecent._meta.db_table, CP_RECENT_KEY, ", ".join(CP_RECENT_KEY), in_window),
    ]
    cursor.execute(
        f"WITH moved AS (DELETE FROM {ReportTallyDelta._meta.db_table} RETURNING {_DELTA}), "
        + ", ".join(f"t{i} AS ({sql})" for i, sql in enumerate(parts))
        + " SELECT COUNT(*) FROM moved"
    )
    return cursor.fetchone()[0]


def _fold_portable(cursor, since: int) -> int:
    """The same on SQLite: take the rows, add them up here, upsert."""
    cursor.execute(f"DELETE FROM {ReportTallyDelta._meta.db_table} RETURNING {_DELTA}")
    rows = cursor.fetchall()
    for table, counts in _added_up(rows, since).items():
        _upsert(cursor, table, TALLIES[table], counts)
    return len(rows)


def _roll(cursor, since: int) -> None:
    """Days before ``since`` leave the window: take them off the charge
    points' counts and forget them."""
    recent, cp_day = ReportChargePointRecent._meta.db_table, ReportChargePointDay._meta.db_table
    cursor.execute(
        f"UPDATE {recent} SET n = {recent}.n - gone.n FROM ("
        f"SELECT charge_point_id, owner_team_id, operator_team_id, SUM(n) AS n FROM {cp_day} WHERE day < %s "
        "GROUP BY charge_point_id, owner_team_id, operator_team_id) AS gone "
        f"WHERE {recent}.charge_point_id = gone.charge_point_id AND {recent}.owner_team_id = gone.owner_team_id "
        f"AND {recent}.operator_team_id = gone.operator_team_id",
        [since],
    )
    cursor.execute(f"DELETE FROM {cp_day} WHERE day < %s", [since])
    cursor.execute(f"DELETE FROM {recent} WHERE n = 0")


def _added_up(rows, since: int) -> dict[str, dict[tuple, int]]:
    """Appended rows (``_DELTA``'s columns) added up per tally and key."""
    added = {table: defaultdict(int) for table in TALLIES}
    opened, days, hours = (added[m._meta.db_table] for m in (ReportOpenTally, ReportDayTally, ReportHourTally))
    cp_days, recent = (added[m._meta.db_table] for m in (ReportChargePointDay, ReportChargePointRecent))
    for owner, operator, site, cp, hour, source, reason, report_state, party, n in rows:
        day = hour // 24
        days[(day, owner, operator, site, source, report_state)] += n
        if report_state != RESOLVED:
            opened[(owner, operator, site, source, reason, report_state, party)] += n
            hours[(hour, owner, operator, site, source, report_state)] += n
        if cp and day >= since:
            cp_days[(day, cp, owner, operator)] += n
            recent[(cp, owner, operator)] += n
    return added

