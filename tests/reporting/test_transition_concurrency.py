"""Finding 7: a transition locks the row, reads it again and saves only the
fields it owns, so a stale copy never puts back what others wrote."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Role
from reporting import services
from reporting.catalogue import Party, Reason, Source
from reporting.models import EventKind, Report, ReportState
from tests.factories import ChargePointFactory, TeamFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def system_report():
    owner, operator = TeamFactory(), TeamFactory()
    cp = ChargePointFactory(site__team=owner, owner=owner, operator=operator)
    return services.report_create(charge_point=cp, source=Source.SYSTEM, reason=Reason.DISCONNECTED, by=None)


def test_a_resolve_from_a_stale_copy_keeps_the_party_and_person_of_a_concurrent_assign(
    require_postgres, member_factory
):
    report = system_report()
    services.report_assign(report=report, party=Party.OPERATOR, by=None)
    owner_person = member_factory(report.charge_point.owner, Role.ADMIN)
    stale = Report.objects.get(pk=report.pk)  # another request's copy: assigned to the operator
    assigned, go_on, errors = threading.Event(), threading.Event(), []

    def reassign():  # request 1: assigned -> assigned, held open until request 2 is waiting
        try:
            with transaction.atomic():
                services.report_assign(report=Report.objects.get(pk=report.pk), party=Party.OWNER,
                                       person=owner_person, by=None)
                assigned.set()
                go_on.wait(5)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    def resolve():  # request 2: resolves from its stale copy
        try:
            assigned.wait(5)
            services.report_resolve(report=stale, by=None, note="fixed")
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=reassign), threading.Thread(target=resolve)]
    for thread in threads:
        thread.start()
    assigned.wait(5)
    time.sleep(0.3)  # request 2 is now blocked on the row
    go_on.set()
    for thread in threads:
        thread.join()
    assert errors == []

    report.refresh_from_db()
    last_assign = report.events.filter(kind=EventKind.ASSIGNED).latest("id")
    assert report.state == ReportState.RESOLVED
    assert (report.assigned_party, report.assigned_to_id) == (last_assign.to_party, last_assign.to_person_id)
    assert (report.assigned_party, report.assigned_to_id) == (Party.OWNER, owner_person.pk)


def test_an_assign_from_a_stale_copy_keeps_the_sweeps_occurrences_and_cleared_time(require_postgres):
    report = system_report()
    stale = Report.objects.get(pk=report.pk)
    cleared_at = timezone.now()
    # What the sweep writes meanwhile: a repeat detection and "condition cleared".
    Report.objects.filter(pk=report.pk).update(occurrences=F("occurrences") + 1, condition_cleared_at=cleared_at)

    services.report_assign(report=stale, party=Party.OWNER, by=None)

    report.refresh_from_db()
    assert (report.state, report.assigned_party) == (ReportState.ASSIGNED, Party.OWNER)
    assert (report.occurrences, report.condition_cleared_at) == (2, cleared_at)
