"""Small pieces of raw SQL shared by the sweep's modules: a datetime as the
backend stores it, and ``column IN (ids)`` written the cheapest way per
backend."""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from core.pg_arrays import int_array


def placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def db_time(value: datetime):
    # Raw SQL: the value as the backend stores it (SQLite keeps naive UTC text).
    return connection.ops.adapt_datetimefield_value(value)


def ids_match(column: str, ids: list[int]) -> tuple[str, list]:
    """``column IN (ids)``; on PostgreSQL one array parameter, which a
    thousand placeholders would cost more to send than the query to run."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [int_array(ids)]
    return f"{column} IN ({placeholders(ids)})", list(ids)
