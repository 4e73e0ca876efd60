"""notifications/services/: who hears about what, in which language, and
sending each row exactly once through failures and lost tasks."""

from datetime import timedelta

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.models import Team
from notifications import events, rendering, services
from notifications.models import Notification, NotificationKind, NotificationStatus
from reporting import services as reporting
from reporting.catalogue import Party, Reason, Source
from reporting.models import EventKind, ReportEvent
from tests.factories import ChargePointFactory, ReportContactFactory, ReportSettingsFactory, SiteFactory

pytestmark = pytest.mark.django_db


def file_report(fleet, capture, **kwargs):
    kwargs.setdefault("source", Source.USER)
    kwargs.setdefault("reason", Reason.NOT_WORKING)
    kwargs.setdefault("description", "The screen stays black <b>all day</b>.")
    with capture(execute=True):
        return reporting.report_create(charge_point=fleet.charge_point, **kwargs)


def recipients(messages=None) -> list[str]:
    return sorted(message.to[0].split("<")[-1].rstrip(">") for message in (messages or mail.outbox))


def later(minutes: float):
    return timezone.now() + timedelta(minutes=minutes)


# --- who hears about what -------------------------------------------------------


def test_new_report_emails_each_contact_of_the_operator_team_once(fleet, django_capture_on_commit_callbacks):
    report = file_report(fleet, django_capture_on_commit_callbacks)

    assert recipients() == ["ib@operator.example", "ida@operator.example"]
    rows = Notification.objects.filter(report=report)
    assert {row.status for row in rows} == {NotificationStatus.SENT}
    assert {row.team_id for row in rows} == {fleet.operator.pk}
    assert [(row.message_id != "", bool(row.sent_at), row.esp_name) for row in rows] == [(True, True, "Test")] * 2


def test_new_report_email_is_in_the_teams_language_with_every_field_and_the_operator_link(
    fleet, django_capture_on_commit_callbacks
):
    report = file_report(fleet, django_capture_on_commit_callbacks)

    message = mail.outbox[0]
    link = f"https://reports.example.com/operator/reporting/report/{report.pk}/change/"
    assert message.subject == f"Ny rapport #{report.pk}: Ladestanderen virker ikke ved {fleet.charge_point.name}"
    for expected in [
        "Ladestander: " + fleet.charge_point.name,
        "Ladested: Harbour",
        "Ejerteam: Owner Energy",
        "Operatør: Operatør ApS",
        "Årsag: Ladestanderen virker ikke",
        "Kilde: Bruger",
        "Status: Åben",
        "Tildelt: Operatør",
        "Beskrivelse: The screen stays black <b>all day</b>.",
        "Åbn rapporten: " + link,
    ]:
        assert expected in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link}"' in html
    assert "Ladestanderen virker ikke" in html
    assert "&lt;b&gt;all day&lt;/b&gt;" in html  # the driver's text is escaped
    assert message.anymail_test_params["metadata"]["report_id"] == str(report.pk)


def test_english_team_gets_english(fleet, django_capture_on_commit_callbacks):
    fleet.operator.language = Team.Language.ENGLISH
    fleet.operator.save()

    report = file_report(fleet, django_capture_on_commit_callbacks, reason=Reason.TAX_REFUND)

    message = mail.outbox[0]
    assert message.subject == f"New report #{report.pk}: Tax refund issue (Only in Denmark) at {fleet.charge_point.name}"
    assert message.body.startswith(
        "A new report was filed about a charge point operated by Operatør ApS.\n\nCharge point: "
    )
    assert "Reason: Tax refund issue" in message.body
    assert "State: Open" in message.body
    assert "Assigned to: Operator" in message.body


def test_system_reasons_are_translated(fleet, django_capture_on_commit_callbacks):
    file_report(fleet, django_capture_on_commit_callbacks, source=Source.SYSTEM, reason=Reason.BAD_CELL_SIGNAL)

    assert "Årsag: Ladestanderen har dårligt mobilsignal" in mail.outbox[0].body
    assert "Kilde: System" in mail.outbox[0].body


def test_contacts_switched_off_and_teams_without_settings_get_nothing(fleet, django_capture_on_commit_callbacks):
    fleet.operator_contacts[0].is_active = False
    fleet.operator_contacts[0].save()
    file_report(fleet, django_capture_on_commit_callbacks)
    assert recipients() == [fleet.operator_contacts[1].email]

    mail.outbox.clear()
    lonely = ChargePointFactory()
    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_create(charge_point=lonely, source=Source.USER, reason=Reason.BROKEN)
    assert mail.outbox == []


def test_new_report_is_emailed_even_with_email_updates_off(fleet, django_capture_on_commit_callbacks):
    fleet.operator.report_settings.email_updates = False
    fleet.operator.report_settings.save()

    file_report(fleet, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 2


def test_assigning_to_the_owner_emails_the_owner_contacts_in_english(fleet, django_capture_on_commit_callbacks):
    report = file_report(fleet, django_capture_on_commit_callbacks)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_assign(report=report, party=Party.OWNER, by=None, note="Needs a new cable")

    assert recipients() == ["olivia@owner.example", "oscar@owner.example"]
    message = mail.outbox[0]
    assert message.subject == f"Report #{report.pk} assigned to Team owner: Charge point is not working at {fleet.charge_point.name}"
    assert "The report has been assigned to Team owner." in message.body
    assert "State: Assigned" in message.body
    assert "Note: Needs a new cable" in message.body
    assert Notification.objects.filter(report=report, kind=NotificationKind.ASSIGNED).count() == 2


def test_assigning_with_email_updates_off_sends_nothing(fleet, django_capture_on_commit_callbacks):
    report = file_report(fleet, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    fleet.owner.report_settings.email_updates = False
    fleet.owner.report_settings.save()

    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_assign(report=report, party=Party.OWNER, by=None)
        reporting.report_assign(report=report, party=Party.SUPPORT, by=None)

    assert mail.outbox == []


def test_assigning_to_support_emails_no_team(fleet, django_capture_on_commit_callbacks):
    report = file_report(fleet, django_capture_on_commit_callbacks)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_assign(report=report, party=Party.SUPPORT, by=None)

    assert mail.outbox == []


def test_resolving_emails_the_operator_and_the_owner_it_was_with(fleet, django_capture_on_commit_callbacks):
    report = file_report(fleet, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_assign(report=report, party=Party.OWNER, by=None)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_resolve(report=report, by=None, note="Cable replaced")

    assert recipients() == [
        "ib@operator.example",
        "ida@operator.example",
        "olivia@owner.example",
        "oscar@owner.example",
    ]
    danish = next(m for m in mail.outbox if "operator.example" in m.to[0])
    assert danish.subject.startswith(f"Rapport #{report.pk} løst:")
    assert "Status: Løst" in danish.body


def test_resolving_with_operator_updates_off_emails_nobody(fleet, django_capture_on_commit_callbacks):
    report = file_report(fleet, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    fleet.operator.report_settings.email_updates = False
    fleet.operator.report_settings.save()

    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_resolve(report=report, by=None)

    assert mail.outbox == []


def test_comments_and_reopening_send_nothing(fleet, django_capture_on_commit_callbacks):
    report = file_report(fleet, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_resolve(report=report, by=None)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_reopen(report=report, by=None)
        reporting.report_comment(report=report, by=None, body="Watching it")

    assert mail.outbox == []


def test_a_contact_of_both_teams_is_emailed_once_per_event(django_capture_on_commit_callbacks):
    owner, operator = SiteFactory().team, SiteFactory().team
    cp = ChargePointFactory(site__team=owner, owner=owner, operator=operator)
    for team in (owner, operator):
        ReportContactFactory(settings=ReportSettingsFactory(team=team), email="shared@example.com")
    report = reporting.report_create(charge_point=cp, source=Source.USER, reason=Reason.BROKEN)
    reporting.report_assign(report=report, party=Party.OWNER, by=None)

    with django_capture_on_commit_callbacks(execute=True):
        reporting.report_resolve(report=report, by=None)

    assert Notification.objects.filter(kind=NotificationKind.RESOLVED).count() == 1


# --- the outbox and the transaction ---------------------------------------------


def test_the_timeline_row_is_the_outbox_and_rolls_back_with_the_report(
    fleet, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            report = reporting.report_create(
                charge_point=fleet.charge_point, source=Source.USER, reason=Reason.BROKEN
            )
            assert ReportEvent.objects.filter(report=report, processed_at__isnull=True).count() == 1
            assert Notification.objects.count() == 0  # decided after commit, not in the request
            raise RuntimeError("the request failed after the report was written")

    assert ReportEvent.objects.count() == 0
    assert Notification.objects.count() == 0
    assert callbacks == []
    assert mail.outbox == []


def test_nothing_is_written_or_sent_before_commit_and_a_lost_task_is_caught_up(
    fleet, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = reporting.report_create(charge_point=fleet.charge_point, source=Source.USER, reason=Reason.BROKEN)

    assert len(callbacks) == 1  # the processing task, queued on commit; here it is lost
    assert Notification.objects.count() == 0
    assert ReportEvent.objects.get(report=report).processed_at is None

    with django_capture_on_commit_callbacks(execute=False):
        assert events.notifications_process_events() == 1  # what the periodic sweep runs
    assert mail.outbox == []
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.PENDING}
    assert ReportEvent.objects.get(report=report).processed_at is not None
    assert events.notifications_process_events() == 0  # never twice
    assert Notification.objects.count() == 2


def test_a_broker_that_is_down_loses_nothing(fleet, django_capture_on_commit_callbacks, monkeypatch):
    from notifications import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker at redis://127.0.0.1:6379 refused the connection")

    monkeypatch.setattr(tasks.notifications_send, "apply_async", broker_down)

    report = file_report(fleet, django_capture_on_commit_callbacks)

    assert report.pk and mail.outbox == []
    assert Notification.objects.filter(status=NotificationStatus.PENDING).count() == 2

    assert services.notifications_send_due() == {NotificationStatus.SENT: 2}
    assert len(mail.outbox) == 2


# --- sending exactly once --------------------------------------------------------


def pending_rows(fleet, capture):
    with capture(execute=False):
        report = reporting.report_create(charge_point=fleet.charge_point, source=Source.USER, reason=Reason.BROKEN)
        events.notifications_process_events()  # the rows, with their send task lost
    return list(Notification.objects.filter(report=report).order_by("id"))


def test_a_sent_row_is_never_sent_again(fleet, django_capture_on_commit_callbacks):
    row = pending_rows(fleet, django_capture_on_commit_callbacks)[0]

    assert services.notification_send(notification_id=row.pk) == NotificationStatus.SENT
    assert services.notification_send(notification_id=row.pk) is None
    assert services.notifications_send_due(now=later(60 * 24)) == {NotificationStatus.SENT: 1}

    assert recipients().count(row.recipient_email) == 1


def test_a_claimed_row_is_left_alone_until_its_lease_runs_out(fleet, django_capture_on_commit_callbacks):
    row = pending_rows(fleet, django_capture_on_commit_callbacks)[0]
    assert services.notification_claim(notification_id=row.pk) is not None  # a worker that then died

    assert services.notification_claim(notification_id=row.pk) is None
    assert services.notifications_send_due(now=later(0.5)) == {NotificationStatus.SENT: 1}  # the other row
    assert row.recipient_email not in recipients()

    # The default lease is a minute: with the sweep every minute, a dead
    # worker's row goes out again within two.
    assert services.notifications_send_due(now=later(1.1)) == {NotificationStatus.SENT: 1}
    assert recipients().count(row.recipient_email) == 1
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert row.attempts == 2


@pytest.mark.parametrize(
    "error",
    [AnymailAPIError("503 Service Unavailable"), TimeoutError("read timed out")],
    ids=["api-error", "timeout"],
)
def test_provider_fails_twice_then_works_delivers_once(
    fleet, django_capture_on_commit_callbacks, provider, error
):
    provider.fail_next(2, error)
    fleet.operator_contacts[1].delete()  # one recipient keeps the arithmetic simple

    report = file_report(fleet, django_capture_on_commit_callbacks, reason=Reason.BROKEN)
    # The on-commit task tried: the first failure. The first retry is due in a minute.
    assert services.notifications_send_due(now=later(0.5)) == {}
    assert services.notifications_send_due(now=later(1.5)) == {NotificationStatus.PENDING: 1}
    assert services.notifications_send_due(now=later(3)) == {}
    assert services.notifications_send_due(now=later(4)) == {NotificationStatus.SENT: 1}
    assert services.notifications_send_due(now=later(600)) == {}

    assert recipients() == ["ida@operator.example"]
    row = Notification.objects.get(report=report)
    assert row.status == NotificationStatus.SENT
    assert row.attempts == 3
    assert row.last_error == ""
    assert provider.calls == 3
    notified = ReportEvent.objects.filter(report=report, kind=EventKind.NOTIFIED)
    assert [e.note for e in notified] == [
        "E-mailed Ida Operatør (Operatør ApS) about the new report."
    ]


def test_provider_down_for_the_whole_run_keeps_rows_pending_until_it_is_back(
    fleet, django_capture_on_commit_callbacks, provider
):
    provider.down(AnymailAPIError("Connection refused"))

    report = file_report(fleet, django_capture_on_commit_callbacks)
    for minutes in (2, 5, 10, 20, 40, 80):
        services.notifications_send_due(now=later(minutes))

    rows = Notification.objects.filter(report=report)
    assert mail.outbox == []
    assert {row.status for row in rows} == {NotificationStatus.PENDING}
    assert {row.attempts for row in rows} == {7}
    assert all("Connection refused" in row.last_error for row in rows)

    provider.up()
    assert services.notifications_send_due(now=later(60 * 3)) == {NotificationStatus.SENT: 2}
    assert recipients() == ["ib@operator.example", "ida@operator.example"]


def test_after_the_last_attempt_a_row_fails_and_support_can_retry_it(
    fleet, django_capture_on_commit_callbacks, provider
):
    provider.down()
    fleet.operator_contacts[1].delete()
    [row] = pending_rows(fleet, django_capture_on_commit_callbacks)
    for attempt in range(services.MAX_ATTEMPTS):
        services.notification_send(notification_id=row.pk, now=later(60 * 24 * attempt))
    row.refresh_from_db()
    assert row.status == NotificationStatus.FAILED
    assert row.attempts == services.MAX_ATTEMPTS
    assert services.notifications_send_due(now=later(60 * 24 * 365)) == {}

    provider.up()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notification_retry(notification=row, by=None) is True
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert recipients() == [row.recipient_email]
    assert services.notification_retry(notification=row, by=None) is False


def test_a_refused_address_fails_at_once_and_shows_on_the_timeline(
    fleet, django_capture_on_commit_callbacks, provider
):
    provider.fail_next(2, AnymailRecipientsRefused("All message recipients were rejected"))

    report = file_report(fleet, django_capture_on_commit_callbacks)

    rows = Notification.objects.filter(report=report)
    assert {row.status for row in rows} == {NotificationStatus.FAILED}
    assert {row.attempts for row in rows} == {1}
    notes = list(ReportEvent.objects.filter(report=report, kind=EventKind.NOTIFIED).values_list("note", flat=True))
    assert len(notes) == 2
    assert all(note.startswith("Could not e-mail") and "rejected" in note for note in notes)


def test_backoff_doubles_up_to_an_hour():
    assert [services.backoff(n) for n in (1, 2, 3, 7, 8, 20)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(hours=1),
        timedelta(hours=1),
        timedelta(hours=1),
    ]


def test_the_link_falls_back_to_the_operator_sites_address(settings):
    settings.ROOT_URLCONF = "notifications.webhooks.urls"  # a URLconf without the admin

    assert rendering.report_admin_url(report_id=7) == "https://reports.example.com/operator/reporting/report/7/change/"


def test_a_misconfigured_email_backend_is_retried_not_stuck(fleet, django_capture_on_commit_callbacks, settings):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"  # no POSTMARK_SERVER_TOKEN set

    report = file_report(fleet, django_capture_on_commit_callbacks)

    rows = Notification.objects.filter(report=report)
    assert {row.status for row in rows} == {NotificationStatus.PENDING}
    assert all("POSTMARK_SERVER_TOKEN" in row.last_error for row in rows)

    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    assert services.notifications_send_due(now=later(2)) == {NotificationStatus.SENT: 2}
