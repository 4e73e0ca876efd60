"""E-mails say the system's own sentences (a health check's description,
an auto-resolve note) in the recipient team's language."""

import pytest
from django.core import mail

from reporting import services as reporting
from reporting.catalogue import Reason, Source

pytestmark = pytest.mark.django_db


def test_a_danish_team_reads_the_checks_description_and_auto_resolve_note_in_danish(
        fleet, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = reporting.report_create(
            charge_point=fleet.charge_point, source=Source.SYSTEM, reason=Reason.DISCONNECTED,
            description="Disconnected since 2026-11-30 07:00 UTC: more than 10 minutes.")
    danish = [m for m in mail.outbox if "ida@operator.example" in m.to[0]][0]
    assert "Afbrudt siden 2026-11-30 07:00 UTC: mere end 10 minutter." in danish.body
    assert "Disconnected since" not in danish.body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_resolve(report=report, by=None,
                                 note="Resolved by the health checks: The charge point is back online.")
    bodies = {m.to[0].split("<")[-1].rstrip(">"): m.body for m in mail.outbox}
    assert "Løst af sundhedstjekkene: Ladestanderen er online igen." in bodies["ida@operator.example"]


def test_a_persons_description_is_left_as_written(fleet, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_create(charge_point=fleet.charge_point, source=Source.USER, reason=Reason.NOT_WORKING,
                                description="Disconnected since 2026-11-30 07:00 UTC: more than 10 minutes.")
    danish = [m for m in mail.outbox if "ida@operator.example" in m.to[0]][0]
    assert "Disconnected since 2026-11-30 07:00 UTC: more than 10 minutes." in danish.body
