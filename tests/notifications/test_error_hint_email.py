"""The error hint in the report e-mail (reporting/error_hints.py), in the
team's language."""

import pytest
from django.core import mail

from chargepoints.models import ChargePoint
from notifications import rendering
from reporting import services as reporting
from reporting.catalogue import Reason, Source
from reporting.models import ReportEvent

pytestmark = pytest.mark.django_db


def test_the_report_email_carries_the_hint_in_danish_and_english(fleet, django_capture_on_commit_callbacks):
    ChargePoint.objects.filter(pk=fleet.charge_point.pk).update(state="error", error_code="HighTemperature",
                                                                vendor_error_code="T-88")
    fleet.charge_point.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        report = reporting.report_create(charge_point=fleet.charge_point, source=Source.SYSTEM,
                                         reason=Reason.IN_ERROR)
    danish = [m for m in mail.outbox if "ida@operator.example" in m.to[0]][0]
    assert "Fejlforklaring: For høj temperatur (HighTemperature / T-88)" in danish.body
    assert "Bør sandsynligvis handle: Ejerteam." in danish.body
    assert "Første skridt: Tjek at ventilationen er fri" in danish.body
    assert "For høj temperatur" in danish.alternatives[0][0]

    # The owner team is English: the same e-mail rendered for it.
    subject, text, html = rendering._render(kind="created", event=ReportEvent.objects.filter(report=report).first(),
                                            team=fleet.owner)
    assert "Error hint: Temperature too high (HighTemperature / T-88)" in text
    assert "Likely to act: Team owner. First step: Check that vents are free" in text


def test_a_report_without_a_known_error_has_no_hint_line(fleet, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_create(charge_point=fleet.charge_point, source=Source.USER, reason=Reason.NOT_WORKING)
    assert mail.outbox and all("Fejlforklaring" not in m.body for m in mail.outbox)
