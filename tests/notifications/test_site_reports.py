"""E-mails about a report on a whole site (site offline)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from reporting.catalogue import Reason
from reporting.health.sweep import health_sweep
from reporting.models import Report
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db


def test_a_site_offline_report_emails_the_operator_and_names_the_site(fleet, django_capture_on_commit_callbacks):
    fleet.charge_point.state, fleet.charge_point.state_since = "disconnected", timezone.now() - timedelta(hours=1)
    fleet.charge_point.save()
    ChargePointFactory(site=fleet.charge_point.site, owner=fleet.owner, operator=fleet.operator,
                       state="disconnected", state_since=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        health_sweep()

    report = Report.objects.get(reason=Reason.SITE_OFFLINE)
    assert sorted(m.to[0] for m in mail.outbox) == ["Ib Operatør <ib@operator.example>",
                                                    "Ida Operatør <ida@operator.example>"]
    message = mail.outbox[0]
    assert message.subject == f"Ny rapport #{report.pk}: Ladestedet er offline ved Harbour"
    assert "hele lokationen" in message.body and "Operatør ApS" in message.body and "Owner Energy" in message.body
