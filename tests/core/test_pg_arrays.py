"""core/pg_arrays.py: array literals PostgreSQL reads back exactly as the
lists they were made from (ids, texts with quotes and backslashes, NULLs,
aware datetimes to the microsecond)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from core.pg_arrays import int_array, text_array, timestamp_array

pytestmark = pytest.mark.django_db


def test_the_literals_read_for_what_they_were():
    if connection.vendor != "postgresql":
        pytest.skip("array literals are PostgreSQL's")
    ids = [1, 9_223_372_036_854_775_807, None, 42]
    texts = ['plain', 'a "quoted" word', 'back\\slash', "it's", "comma, {braces}", "", None, "NULL", " spaced "]
    moments = [datetime(2026, 11, 30, 16, 0, 0, 914141, tzinfo=UTC),
               datetime(2026, 11, 30, 17, 0, tzinfo=timezone(timedelta(hours=1)))]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::bigint[], %s::text[], %s::timestamptz[]",
                       [int_array(ids), text_array(texts), timestamp_array(moments)])
        got_ids, got_texts, got_moments = cursor.fetchone()
    assert got_ids == ids
    assert got_texts == texts
    assert got_moments == moments


def test_empty_lists_are_empty_arrays():
    assert (int_array([]), text_array([]), timestamp_array([])) == ("{}", "{}", "{}")
