"""notifications/digests.py: a team's e-mails collected into one digest per
contact and period, the burst threshold at its boundary, and each digest
built and sent exactly once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from notifications import digests, events, services
from notifications.models import Digest, DigestEntry, Notification, NotificationKind, NotificationStatus
from reporting import services as reporting
from reporting.catalogue import Party, Reason, Source
from reporting.models import ReportEvent, ReportSettings
from reporting.settings_models import Delivery

pytestmark = pytest.mark.django_db


def recipients(messages=None) -> list[str]:
    return sorted(message.to[0].split("<")[-1].rstrip(">") for message in (messages or mail.outbox))


def file_reports(fleet, capture, count: int) -> list:
    """File ``count`` reports whose events wait unprocessed (the on-commit
    task is held back), as when a burst lands in one processing batch."""
    with capture(execute=False):
        return [
            reporting.report_create(
                charge_point=fleet.charge_point, source=Source.USER, reason=Reason.NOT_WORKING,
                description=f"report {n}",
            )
            for n in range(count)
        ]


def process(capture, *, now):
    with capture(execute=True):
        events.notifications_process_events(now=now)


def build(capture, *, now):
    """The minute's sweep at ``now``: build the digests that are due, then send."""
    with capture(execute=True):
        built = digests.notifications_build_digests(now=now)
    services.notifications_send_due(now=now)
    return built


def digest_mode(team, minutes=15):
    ReportSettings.objects.filter(team=team).update(delivery=Delivery.DIGEST, digest_minutes=minutes)


def test_the_period_is_aligned_to_the_clock():
    now = timezone.now().replace(hour=10, minute=37, second=12)

    start, end = digests.digest_period(now=now, minutes=15)

    assert (start.hour, start.minute, start.second, end.hour, end.minute) == (10, 30, 0, 10, 45)


# --- digest mode -----------------------------------------------------------------


def test_a_digest_team_gets_one_email_per_contact_when_the_period_is_over_listing_what_was_filed_assigned_and_resolved(
    fleet, django_capture_on_commit_callbacks
):
    digest_mode(fleet.operator)
    first, second = file_reports(fleet, django_capture_on_commit_callbacks, 2)
    with django_capture_on_commit_callbacks(execute=False):
        reporting.report_assign(report=first, party=Party.OWNER, by=None)
        reporting.report_assign(report=first, party=Party.OPERATOR, by=None)
        reporting.report_resolve(report=second, by=None)
    now = timezone.now()
    process(django_capture_on_commit_callbacks, now=now)

    # The owner team has immediate e-mails: it hears of its assignment now;
    # the operator team's contacts hear nothing yet.
    assert recipients() == ["olivia@owner.example", "oscar@owner.example"]
    digest = Digest.objects.get(team=fleet.operator)
    assert digest.period_start <= now < digest.period_end
    assert build(django_capture_on_commit_callbacks, now=digest.period_end - timedelta(microseconds=1)) == 0

    mail.outbox.clear()
    assert build(django_capture_on_commit_callbacks, now=digest.period_end) == 1

    assert recipients() == ["ib@operator.example", "ida@operator.example"]
    message = mail.outbox[0]
    assert message.subject == "Rapporter for Operatør ApS: 2 oprettet, 1 tildelt, 1 løst"  # a Danish team
    link = "https://reports.example.com/operator/reporting/report/{}/change/"
    filed = message.body.split("Oprettet (2):")[1].split("Tildelt (1):")[0]
    assert f"#{first.pk} Ladestanderen virker ikke" in filed and link.format(first.pk) in filed
    assert f"#{second.pk} Ladestanderen virker ikke" in filed and link.format(second.pk) in filed
    assigned = message.body.split("Tildelt (1):")[1].split("Løst (1):")[0]
    assert f"#{first.pk}" in assigned and "→ Operatør" in assigned and f"#{second.pk}" not in assigned
    resolved = message.body.split("Løst (1):")[1]
    assert f"#{second.pk}" in resolved and f"#{first.pk}" not in resolved.split("--")[0]
    html = message.alternatives[0][0]
    assert f'href="{link.format(second.pk)}"' in html
    rows = Notification.objects.filter(digest=digest)
    assert [(row.kind, row.status, row.report_id) for row in rows] == [(NotificationKind.DIGEST, NotificationStatus.SENT, None)] * 2


def test_a_digest_holds_exactly_its_periods_events_and_the_next_event_opens_the_next_digest(
    fleet, django_capture_on_commit_callbacks
):
    digest_mode(fleet.operator, minutes=15)
    early = file_reports(fleet, django_capture_on_commit_callbacks, 2)
    now = timezone.now()
    process(django_capture_on_commit_callbacks, now=now)
    first = Digest.objects.get(team=fleet.operator)

    late = file_reports(fleet, django_capture_on_commit_callbacks, 1)
    # Processed after the first period ended, before any sweep built it.
    process(django_capture_on_commit_callbacks, now=first.period_end)

    first.refresh_from_db()
    assert first.built_at == first.period_end
    second = Digest.objects.get(team=fleet.operator, built_at__isnull=True)
    assert second.period_start == first.period_end
    assert sorted(DigestEntry.objects.filter(digest=first).values_list("event__report_id", flat=True)) == sorted(
        r.pk for r in early
    )
    assert list(DigestEntry.objects.filter(digest=second).values_list("event__report_id", flat=True)) == [late[0].pk]
    # The first was built as soon as the late event closed it: the sweep sends it.
    services.notifications_send_due(now=first.period_end)
    assert recipients() == ["ib@operator.example", "ida@operator.example"]
    assert f"#{late[0].pk} " not in mail.outbox[0].body


def test_two_sweeps_build_a_digest_once(fleet, django_capture_on_commit_callbacks):
    digest_mode(fleet.operator)
    file_reports(fleet, django_capture_on_commit_callbacks, 1)
    process(django_capture_on_commit_callbacks, now=timezone.now())
    digest = Digest.objects.get()

    assert build(django_capture_on_commit_callbacks, now=digest.period_end) == 1
    assert build(django_capture_on_commit_callbacks, now=digest.period_end + timedelta(minutes=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.notifications_send_due(now=digest.period_end + timedelta(minutes=2))

    assert recipients() == ["ib@operator.example", "ida@operator.example"]
    assert Notification.objects.filter(digest=digest).count() == 2


def test_a_crash_while_building_loses_nothing_and_the_next_sweep_builds_it(
    fleet, django_capture_on_commit_callbacks, monkeypatch
):
    digest_mode(fleet.operator)
    file_reports(fleet, django_capture_on_commit_callbacks, 1)
    process(django_capture_on_commit_callbacks, now=timezone.now())
    digest = Digest.objects.get()
    original = digests.render_digest

    def crash(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(digests, "render_digest", crash)
    with pytest.raises(RuntimeError):
        build(django_capture_on_commit_callbacks, now=digest.period_end)
    digest.refresh_from_db()
    assert digest.built_at is None and Notification.objects.filter(digest=digest).count() == 0

    monkeypatch.setattr(digests, "render_digest", original)
    assert build(django_capture_on_commit_callbacks, now=digest.period_end + timedelta(minutes=1)) == 1
    assert recipients() == ["ib@operator.example", "ida@operator.example"]


def test_a_digest_built_while_the_provider_is_down_goes_out_once_when_it_is_back(
    fleet, django_capture_on_commit_callbacks, provider
):
    digest_mode(fleet.operator)
    file_reports(fleet, django_capture_on_commit_callbacks, 1)
    process(django_capture_on_commit_callbacks, now=timezone.now())
    digest = Digest.objects.get()
    provider.down()
    build(django_capture_on_commit_callbacks, now=digest.period_end)
    assert mail.outbox == []
    assert set(Notification.objects.filter(digest=digest).values_list("status", flat=True)) == {"pending"}

    provider.up()
    later = digest.period_end + timedelta(minutes=5)
    services.notifications_send_due(now=later)
    build(django_capture_on_commit_callbacks, now=later)
    services.notifications_send_due(now=later + timedelta(minutes=5))

    assert recipients() == ["ib@operator.example", "ida@operator.example"]


# --- bursts ----------------------------------------------------------------------


@override_settings(NOTIFICATIONS_BURST_THRESHOLD=3)
def test_threshold_many_new_reports_within_a_minute_are_emailed_one_by_one(fleet, django_capture_on_commit_callbacks):
    file_reports(fleet, django_capture_on_commit_callbacks, 3)
    process(django_capture_on_commit_callbacks, now=timezone.now())

    assert len(mail.outbox) == 3 * 2
    assert Digest.objects.count() == 0


@override_settings(NOTIFICATIONS_BURST_THRESHOLD=3)
def test_one_more_than_the_threshold_within_a_minute_goes_out_as_one_digest(fleet, django_capture_on_commit_callbacks):
    reports = file_reports(fleet, django_capture_on_commit_callbacks, 4)
    now = timezone.now()
    process(django_capture_on_commit_callbacks, now=now)

    assert mail.outbox == []
    digest = Digest.objects.get(team=fleet.operator)
    assert (digest.burst, digest.period_start, digest.period_end) == (True, now, now + timedelta(seconds=60))
    build(django_capture_on_commit_callbacks, now=digest.period_end)
    assert recipients() == ["ib@operator.example", "ida@operator.example"]
    assert "Oprettet (4):" in mail.outbox[0].body
    assert all(f"#{report.pk} " in mail.outbox[0].body for report in reports)


def test_a_teams_own_burst_threshold_wins_over_the_default(fleet, django_capture_on_commit_callbacks):
    ReportSettings.objects.filter(team=fleet.operator).update(burst_threshold=1)
    file_reports(fleet, django_capture_on_commit_callbacks, 2)
    process(django_capture_on_commit_callbacks, now=timezone.now())

    assert mail.outbox == []
    assert DigestEntry.objects.filter(digest__team=fleet.operator).count() == 2


@override_settings(NOTIFICATIONS_BURST_THRESHOLD=2)
def test_reports_older_than_the_window_do_not_count_towards_a_burst(fleet, django_capture_on_commit_callbacks):
    file_reports(fleet, django_capture_on_commit_callbacks, 2)
    ReportEvent.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    file_reports(fleet, django_capture_on_commit_callbacks, 1)
    process(django_capture_on_commit_callbacks, now=timezone.now())

    assert len(mail.outbox) == 3 * 2
    assert Digest.objects.count() == 0


@override_settings(NOTIFICATIONS_BURST_THRESHOLD=2)
def test_reports_filed_one_by_one_go_out_until_the_burst_then_the_rest_joins_one_digest(
    fleet, django_capture_on_commit_callbacks
):
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            reporting.report_create(charge_point=fleet.charge_point, source=Source.USER, reason=Reason.BROKEN)

    assert len(mail.outbox) == 2 * 2  # the first two, before anyone could know
    digest = Digest.objects.get()
    assert digest.entries.count() == 3


@override_settings(NOTIFICATIONS_BURST_THRESHOLD=2)
def test_a_moved_charge_points_new_reports_count_towards_its_new_operators_burst(
    fleet, django_capture_on_commit_callbacks
):
    from chargepoints.assets import charge_point_update
    from tests.factories import ReportContactFactory, ReportSettingsFactory, SupportUserFactory, TeamFactory

    new_operator = TeamFactory(name="Ny Operatør ApS", language="da")
    ReportContactFactory(settings=ReportSettingsFactory(team=new_operator), email="nina@new.example")
    reports = file_reports(fleet, django_capture_on_commit_callbacks, 2)
    fleet.charge_point = charge_point_update(charge_point=fleet.charge_point, operator=new_operator,
                                             by=SupportUserFactory())
    reports += file_reports(fleet, django_capture_on_commit_callbacks, 1)
    process(django_capture_on_commit_callbacks, now=timezone.now())

    # All three reports are the new operator's now: more than the threshold.
    assert mail.outbox == []
    assert not Digest.objects.filter(team=fleet.operator).exists()
    digest = Digest.objects.get(team=new_operator)
    assert sorted(digest.entries.values_list("event__report_id", flat=True)) == sorted(r.pk for r in reports)


@override_settings(NOTIFICATIONS_BURST_THRESHOLD=2)
def test_a_site_report_counts_towards_no_burst(fleet, django_capture_on_commit_callbacks):
    """Its e-mail goes to the teams operating charge points on the site, not
    to the team its columns name (the site's), so it is not counted."""
    from tests.factories import ChargePointFactory, SiteFactory

    own_site = SiteFactory(team=fleet.operator, name="Depot")
    ChargePointFactory(site=own_site, owner=fleet.operator, operator=fleet.operator)
    file_reports(fleet, django_capture_on_commit_callbacks, 2)
    with django_capture_on_commit_callbacks(execute=False):
        created = reporting.report_file_site_reports(
            reason=Reason.SITE_OFFLINE, sites=[(own_site.pk, "All down."), (fleet.charge_point.site_id, "Dark.")],
            now=timezone.now())
    process(django_capture_on_commit_callbacks, now=timezone.now())

    assert Digest.objects.count() == 0
    # Two charge point reports and two site reports, each to both contacts.
    assert len(mail.outbox) == 4 * 2
    assert sum(f"#{report_id}" in message.subject for message in mail.outbox for report_id in created.values()) == 4


# --- on PostgreSQL, really at once -------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_build_and_send_each_digest_once(require_postgres, fleet, monkeypatch):
    from tests.notifications.test_concurrency import run_at_once

    digest_mode(fleet.operator)
    for _ in range(3):
        reporting.report_create(charge_point=fleet.charge_point, source=Source.USER, reason=Reason.BROKEN)
    digest = Digest.objects.get()
    assert digest.entries.count() == 3
    at = digest.period_end

    run_at_once(
        lambda: (digests.notifications_build_digests(now=at), services.notifications_send_due(now=at)),
        lambda: (digests.notifications_build_digests(now=at), services.notifications_send_due(now=at)),
    )

    assert recipients() == ["ib@operator.example", "ida@operator.example"]
    assert Notification.objects.filter(digest=digest).count() == 2
