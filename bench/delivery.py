"""Benchmark: draining a backlog of the e-mail outbox, against the raw SMTP
send rate of the same messages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_delivery \\
        .venv/bin/python bench/delivery.py --rows 10000 --runs 3

Seeds N pending outbox rows (a provider outage's backlog: every row due),
starts a local SMTP server (aiosmtpd, in this process, accepting everything)
and times, in one run:

- the real sweep, ``notifications_send_due`` as the worker runs it (claim,
  Message-ID, send through Django's SMTP backend, record as sent), until
  nothing is due; the rows are put back to pending before every run;
- the baseline: the same messages sent with smtplib on one connection, no
  database at all (the SMTP server's own speed, the upper bound);

and prints medians and the ratio. Without DATABASE_URL the database is
bench_delivery, created if missing. Target: 10,000 rows in under 2 minutes.
"""

from __future__ import annotations

import argparse
import logging
import smtplib
import socket
import sys
import time

from common import ROOT, bench_setup, median_seconds

sys.path.insert(0, str(ROOT))


class CountingHandler:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        self.received += 1
        return "250 2.0.0 Queued"


def seed(rows: int) -> None:
    from django.db import connection

    from accounts.models import Team
    from chargepoints.models import ChargePoint, Site
    from notifications.models import Notification
    from reporting.models import Report, ReportEvent

    Notification.objects.filter(subject__startswith="Bench delivery").delete()
    team, _ = Team.objects.get_or_create(name="Bench delivery team", defaults={"country": "NL", "language": "en"})
    site, _ = Site.objects.get_or_create(
        team=team, name="Bench delivery site",
        defaults={"address": "Benchstraat 1", "city": "Utrecht", "postal_code": "3500", "country": "NL"},
    )
    cp = ChargePoint.objects.filter(ocpp_id="BENCH-DELIVERY").first() or ChargePoint.objects.create(
        site=site, owner=team, operator=team, name="Bench delivery CP", serial_number="BDSN",
        ocpp_id="BENCH-DELIVERY", public_code="BENCHDELIVERY", vendor="Alfen", model="Eve",
    )
    report = Report.objects.filter(charge_point=cp).first() or Report.objects.create(
        charge_point=cp, source="user", reason="broken", description="Bench delivery report"
    )
    event = ReportEvent.objects.filter(report=report).first() or ReportEvent.objects.create(
        report=report, kind="created", processed_at=report.created_at
    )
    body = "The charge point Bench delivery CP has a new report: broken.\n" * 20
    Notification.objects.bulk_create(
        [
            Notification(
                report=report, event=event, kind="created", team=team,
                recipient_name=f"Contact {n}", recipient_email=f"contact{n}@bench.example",
                language="en", subject=f"Bench delivery {n}", body_text=body, body_html=f"<p>{body}</p>",
            )
            for n in range(rows)
        ],
        batch_size=2000,
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE notifications_notification")


def reset() -> None:
    from django.utils import timezone

    from notifications.models import Notification

    Notification.objects.filter(subject__startswith="Bench delivery").update(
        status="pending", attempts=0, next_attempt_at=timezone.now(), claim_token=None, claimed_until=None,
        email_message_id="", message_id="", sent_at=None, esp_name="", last_error="",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    bench_setup("bench_delivery")
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from aiosmtpd.controller import Controller
    from django.conf import settings
    from django.core.mail import get_connection

    from notifications.models import Notification
    from notifications.services import mail, sending

    handler = CountingHandler()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 30
        seed(args.rows)
        rows = Notification.objects.filter(subject__startswith="Bench delivery")

        def sweep() -> None:
            started = time.perf_counter()
            counts = sending.notifications_send_due(budget_seconds=3600)
            assert counts.get("sent") == args.rows, counts
            print(f"  one sweep run: {time.perf_counter() - started:.1f} s", flush=True)

        # The baseline: the same messages, rendered by the same code, on one
        # SMTP connection, without the database.
        reset()
        messages = []
        for row in rows.order_by("id"):
            row.email_message_id = mail.make_message_id(notification_id=row.pk)
            message = mail._message(row, None)
            messages.append((message.from_email, message.recipients(), message.message().as_bytes(linesep="\r\n")))

        def raw() -> None:
            with smtplib.SMTP(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=30) as smtp:
                for sender, recipients, data in messages:
                    smtp.sendmail(sender, recipients, data)

        assert get_connection() is not None
        sweep_s = median_seconds(sweep, runs=args.runs, warmup=0, before=reset)
        raw_s = median_seconds(raw, runs=args.runs, warmup=0)
        sent = rows.filter(status="sent").count()
    finally:
        controller.stop()
    print(f"rows: {args.rows}, runs: {args.runs} (medians)")
    print(f"sweep (claim, send over SMTP, record):  {sweep_s:8.2f} s  {args.rows / sweep_s:8.0f} rows/s")
    print(f"baseline (smtplib, one connection):     {raw_s:8.2f} s  {args.rows / raw_s:8.0f} messages/s")
    print(f"ratio sweep / baseline: {sweep_s / raw_s:.1f}x; rows sent in the last run: {sent}")
    print(f"target: {args.rows} rows in under 120 s: {'met' if sweep_s < 120 else 'NOT met'}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"(whole benchmark: {time.perf_counter() - started:.0f} s)")
