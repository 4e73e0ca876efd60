"""reporting/models.py: what the lighter indexes (migration 0030) still
guarantee. A reply token is unique where set and any number of reports
have none; the foreign keys most reports leave empty are found by their
partial indexes."""

import pytest
from django.db import IntegrityError, connection, transaction

from reporting.models import Report
from tests.factories import ReportFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_reply_token_is_unique_where_set_and_reports_without_one_are_many():
    ReportFactory.create_batch(3, reply_token=None)
    ReportFactory(reply_token="abc123")

    with pytest.raises(IntegrityError), transaction.atomic():
        ReportFactory(reply_token="abc123")

    assert Report.objects.filter(reply_token__isnull=True).count() == 3
    assert Report.objects.get(reply_token="abc123")


def test_the_partial_indexes_serve_lookups_by_person_and_site(require_postgres):
    person = UserFactory()
    mine = ReportFactory(assigned_to=person)
    ReportFactory.create_batch(3)

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM reporting_report WHERE assigned_to_id = %s", [person.pk])
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "report_assigned_to_idx" in plan
    assert list(Report.objects.filter(assigned_to=person)) == [mine]
