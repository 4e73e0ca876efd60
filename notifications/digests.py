"""Digests: a team's e-mails about its reports collected over a period and
sent as one e-mail per contact, through the same outbox as every other
e-mail (docs/delivery.md, "Digests").

A team's events go into a digest instead of out one by one when

- its report settings say ``delivery = digest``: periods of
  ``digest_minutes``, aligned to the clock (every 15 minutes: :00, :15, ...);
- or it is in a burst: more than its burst threshold
  (``ReportSettings.burst_threshold``, else ``NOTIFICATIONS_BURST_THRESHOLD``)
  new reports within ``NOTIFICATIONS_BURST_WINDOW_SECONDS``. The burst's
  digest runs for one window from the event that crossed the threshold;
  whatever else the team hears of meanwhile joins it.

Exactly once: a team has at most one open digest (a partial unique index),
which the event processing locks while adding to it. Building a digest
claims it (``built_at``, a conditional UPDATE; the sweep skips rows another
transaction holds) and writes its outbox rows in the same transaction, so a
crash before the commit leaves the digest open for the next sweep and a
crash after it leaves the outbox rows, which the outbox sends. A digest
whose period is over when an event arrives is built on the spot and the
event opens the next one: a digest holds exactly its period's events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.models import Team
from reporting.catalogue import Party
from reporting.models import EventKind, Report, ReportEvent, ReportSettings
from reporting.settings_models import Delivery

from .models import Digest, DigestEntry, Notification, NotificationKind
from .rendering import report_admin_url
from .services import queueing

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
BUILD_BATCH = 100


def digest_period(*, now: datetime, minutes: int) -> tuple[datetime, datetime]:
    """The clock-aligned period of ``minutes`` that holds ``now``."""
    length = timedelta(minutes=minutes)
    start = EPOCH + ((now - EPOCH) // length) * length
    return start, start + length


def burst_threshold(team_settings: ReportSettings | None) -> int:
    if team_settings is not None and team_settings.burst_threshold:
        return team_settings.burst_threshold
    return settings.NOTIFICATIONS_BURST_THRESHOLD


def teams_in_burst(*, settings_by_team: dict, now: datetime) -> set[int]:
    """The teams (of ``settings_by_team``) that got more new reports than
    their threshold within the burst window before ``now``: one grouped
    query. A report's new-report e-mail goes to its operator team (the
    report's ``operator_team``, which follows a charge point's move)."""
    if not settings_by_team:
        return set()
    since = now - timedelta(seconds=settings.NOTIFICATIONS_BURST_WINDOW_SECONDS)
    counts = (
        ReportEvent.objects.filter(
            kind=EventKind.CREATED,
            created_at__gt=since,
            created_at__lte=now,
            report__operator_team_id__in=list(settings_by_team),
            # A site report's new-report e-mail goes to the teams operating
            # charge points there, which its columns do not name (they hold
            # the site's team): it counts towards no burst.
            report__charge_point_id__isnull=False,
        )
        .order_by()
        .values("report__operator_team_id")
        .annotate(n=Count("id"))
        .values_list("report__operator_team_id", "n")
    )
    return {team_id for team_id, n in counts if n > burst_threshold(settings_by_team.get(team_id))}


def open_digest_team_ids(*, team_ids, now: datetime) -> set[int]:
    """The teams whose open digest's period still runs: what they hear of
    joins it (a burst's digest takes the rest of the burst)."""
    return set(
        Digest.objects.filter(team_id__in=list(team_ids), built_at__isnull=True, period_end__gt=now)
        .values_list("team_id", flat=True)
    )


# What a digest lists; anything else (a missed response-time target) is
# e-mailed at once whatever the team's delivery.
DIGEST_KINDS = {EventKind.CREATED, EventKind.ASSIGNED, EventKind.RESOLVED}


def collects(
    *, kind: str, team_id: int, settings_by_team: dict, bursting: set[int], open_teams: set[int]
) -> bool:
    """Whether the team's e-mail about an event of ``kind`` goes into a
    digest rather than out now."""
    if kind not in DIGEST_KINDS:
        return False
    team_settings = settings_by_team.get(team_id)
    return (
        (team_settings is not None and team_settings.delivery == Delivery.DIGEST)
        or team_id in bursting
        or team_id in open_teams
    )


def digest_add(*, team: Team, events: list[ReportEvent], settings_by_team: dict, now: datetime) -> Digest:
    """Put the events into the team's open digest (opening one if needed).
    Runs in the event processing's transaction, which holds the digest's
    row lock until it commits."""
    digest = _open_digest(team=team, team_settings=settings_by_team.get(team.pk), now=now)
    DigestEntry.objects.bulk_create(
        [DigestEntry(digest=digest, event=event) for event in events], ignore_conflicts=True
    )
    return digest


def _open_digest(*, team: Team, team_settings: ReportSettings | None, now: datetime) -> Digest:
    for _ in range(5):
        digest = Digest.objects.select_for_update().filter(team=team, built_at__isnull=True).first()
        if digest is not None:
            if digest.period_end > now:
                return digest
            # Its period is over and the sweep has not built it yet: build
            # it now (we hold its lock), so it keeps exactly its period.
            digest_build(digest=digest, now=now)
            continue
        if team_settings is not None and team_settings.delivery == Delivery.DIGEST:
            start, end = digest_period(now=now, minutes=team_settings.digest_minutes)
            burst = False
        else:
            start, end = now, now + timedelta(seconds=settings.NOTIFICATIONS_BURST_WINDOW_SECONDS)
            burst = True
        # Two workers opening the team's digest at once: the partial unique
        # index lets one row in; the other insert does nothing and the next
        # round locks the row that won.
        Digest.objects.bulk_create(
            [Digest(team=team, period_start=start, period_end=end, burst=burst, created_at=now)],
            ignore_conflicts=True,
        )
    raise RuntimeError(f"Could not open a digest for team {team.pk}.")  # pragma: no cover


# --- building ------------------------------------------------------------------


def digest_build(*, digest: Digest, now: datetime | None = None) -> list[Notification]:
    """Claim one digest and write its outbox rows (the caller's transaction).
    Nothing when it was built already."""
    now = now or timezone.now()
    if not Digest.objects.filter(pk=digest.pk, built_at__isnull=True).update(built_at=now):
        return []
    return _write(digest_id=digest.pk, now=now)


def _claim_due(*, now: datetime, limit: int) -> list[int]:
    """Mark up to ``limit`` open digests whose period is over as built and
    return their ids; on PostgreSQL rows another transaction holds (an event
    being added, another sweep) are skipped."""
    table = Digest._meta.db_table
    lock = "FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    at = Digest._meta.get_field("built_at").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET built_at = %s WHERE id IN ("
            f"SELECT id FROM {table} WHERE built_at IS NULL AND period_end <= %s ORDER BY id LIMIT %s {lock}) "
            "RETURNING id",
            [at, at, limit],
        )
        return sorted(row[0] for row in cursor.fetchall())


def notifications_build_digests(*, now: datetime | None = None, batch: int = BUILD_BATCH) -> int:
    """The periodic sweep's part: build every digest whose period is over.
    Returns how many were built. Safe to run concurrently."""
    built = 0
    while True:
        at = now or timezone.now()
        with transaction.atomic():
            ids = _claim_due(now=at, limit=batch)
            for digest_id in ids:
                _write(digest_id=digest_id, now=at)
        built += len(ids)
        if len(ids) < batch:
            return built


def _write(*, digest_id: int, now: datetime) -> list[Notification]:
    digest = Digest.objects.select_related("team").get(pk=digest_id)
    team_settings = ReportSettings.objects.filter(team=digest.team).prefetch_related("contacts").first()
    contacts = [c for c in team_settings.contacts.all() if c.is_active] if team_settings else []
    if not contacts:
        return []
    events = list(
        ReportEvent.objects.filter(digest_entries__digest=digest).order_by("created_at", "id")
    )
    if not events:
        return []
    reports = Report.objects.with_context().in_bulk({event.report_id for event in events})
    subject, body_text, body_html = render_digest(digest=digest, events=events, reports=reports)
    rows = []
    for contact in {c.email.lower(): c for c in contacts}.values():
        rows.append(
            Notification(
                digest=digest,
                kind=NotificationKind.DIGEST,
                team=digest.team,
                contact=contact,
                recipient_name=contact.name,
                recipient_email=contact.email.lower(),
                language=digest.team.language,
                subject=subject,
                body_text=body_text,
                body_html=body_html,
                next_attempt_at=now,
                created_at=now,
            )
        )
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created]
    transaction.on_commit(lambda: queueing.enqueue_send(ids))
    return created


def render_digest(*, digest: Digest, events: list[ReportEvent], reports: dict) -> tuple[str, str, str]:
    """Subject, text and HTML of a digest in the team's language: the reports
    filed, assigned and resolved in the period, each with its link."""
    team = digest.team
    sections = {EventKind.CREATED: [], EventKind.ASSIGNED: [], EventKind.RESOLVED: []}
    with translation.override(team.language):
        for event in events:
            report = reports.get(event.report_id)
            if report is None or event.kind not in sections:
                continue
            cp = report.charge_point
            sections[event.kind].append({
                "report_id": report.pk,
                "reason": report.get_reason_display(),
                "cp_name": cp.name if cp else "",
                "site_name": cp.site.name if cp else "",
                "party": str(Party(event.to_party).label) if event.to_party else "",
                "url": report_admin_url(report_id=report.pk),
            })
        context = {
            "team_name": team.name,
            "language": team.language,
            "burst": digest.burst,
            "period_start": f"{digest.period_start.astimezone(UTC):%Y-%m-%d %H:%M}",
            "period_end": f"{digest.period_end.astimezone(UTC):%Y-%m-%d %H:%M}",
            "filed": sections[EventKind.CREATED],
            "assigned": sections[EventKind.ASSIGNED],
            "resolved": sections[EventKind.RESOLVED],
            "filed_count": len(sections[EventKind.CREATED]),
            "assigned_count": len(sections[EventKind.ASSIGNED]),
            "resolved_count": len(sections[EventKind.RESOLVED]),
        }
        subject = " ".join(render_to_string("notifications/email/digest_subject.txt", context).split())
        context["subject"] = subject
        body_text = render_to_string("notifications/email/digest_body.txt", context)
        body_html = render_to_string("notifications/email/digest_body.html", context)
    return subject[:300], body_text.strip() + "\n", body_html
