"""Demo drivers for `make run` (``manage.py simulate_drivers``): now and then
a driver files a report on the public page behind the QR sticker (the form
is fetched for its CSRF token and posted back, as a browser does), another
files one from the drivers' app with the demo platform key, and another
writes to the support address: the e-mail arrives through Postmark's
inbound webhook, with the webhook secret, and the driver's reply follows.

Everything goes over HTTP to the running web server, through the same
channels real drivers use: nothing here writes a row itself.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from email.utils import format_datetime

import requests
from django.conf import settings
from django.utils import timezone

from chargepoints.models import ChargePoint

logger = logging.getLogger(__name__)

BULK_PREFIXES = ("FLEET-", "BENCH-")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REASON_INPUT = re.compile(r'name="reason" value="([^"]+)"')

DRIVERS = [
    # name, e-mail, phone, language
    ("Mila de Vries", "mila.devries@example.net", "+31 6 1234 5678", "en"),
    ("Jan Bakker", "jan.bakker@example.net", "", "en"),
    ("Mette Hansen", "mette.hansen@example.dk", "+45 12 34 56 78", "da"),
    ("Anders Holm", "anders.holm@example.dk", "", "da"),
]
DESCRIPTIONS = {
    "not_working": "The screen stays black and the cable does not unlock.",
    "broken": "The plug's cover is cracked.",
    "parking_blocked": "A petrol car is parked in the charging bay.",
    "charge_interrupted": "Charging stopped after a few minutes.",
    "inaccessible": "The barrier to the car park is closed.",
    "not_in_location": "The charger is not where the map shows it.",
    "other": "The light on the charger blinks red and green.",
    "tax_refund": "My refund for last month is missing.",
}
SUPPORT_QUESTIONS = [
    ("Charger {ocpp_id} will not start", "Hi, the app says {ocpp_id} is available but it does not start when I plug in."),
    ("Card not accepted at {ocpp_id}", "Hello, my charge card is refused at the charger {ocpp_id}. Can you help?"),
]
REPLIES = [
    "Thanks! It works again now.",
    "I tried again and it still does not start. I am standing next to it now.",
]


class DriverSimulationError(Exception):
    """A channel refused what a demo driver sent: a bug in the demo or the channel."""


@dataclass
class DemoDrivers:
    base_url: str
    platform_key: str
    webhook_secret: str
    support_address: str
    rng: random.Random = field(default_factory=random.Random)
    timeout: float = 30
    # Support e-mails sent and not yet replied to: (message id, driver, subject).
    awaiting_reply: list[tuple[str, tuple, str]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    # --- the channels ---

    def report_on_page(self, charge_point: ChargePoint) -> str:
        """Fill in the public page's form like a browser; the status page's address."""
        name, email, phone, language = self._driver(charge_point)
        browser = requests.Session()
        url = f"{self.base_url}/r/{charge_point.public_code}/"
        browser.get(f"{url}?lang={language}", timeout=self.timeout)  # the language switch sets a cookie
        page = browser.get(url, timeout=self.timeout)
        token, reasons = CSRF_INPUT.search(page.text), REASON_INPUT.findall(page.text)
        if page.status_code != 200 or token is None or not reasons:
            raise DriverSimulationError(f"The report page {url} answered {page.status_code} without a form.")
        reason = self.rng.choice([r for r in reasons if r != "other"] or reasons)
        answer = browser.post(
            url,
            data={"csrfmiddlewaretoken": token.group(1), "reason": reason, "description": DESCRIPTIONS.get(reason, ""),
                  "name": name, "email": email, "phone": phone, "website": ""},
            headers={"Referer": url},
            allow_redirects=False,
            timeout=self.timeout,
        )
        if answer.status_code != 303:
            raise DriverSimulationError(f"The report page refused the report: {answer.status_code}.")
        self.log.append(f"{name} reported {reason} on {charge_point.ocpp_id} on the public page")
        return self.base_url + answer.headers["Location"]

    def report_in_app(self, charge_point: ChargePoint) -> dict:
        """File a report through the drivers' app API with the platform key."""
        name, email, phone, language = self._driver(charge_point)
        reason = self.rng.choice(["not_working", "broken", "parking_blocked", "charge_interrupted"])
        answer = requests.post(
            f"{self.base_url}/api/v1/driver-reports/",
            json={"charge_point": charge_point.ocpp_id, "reason": reason, "description": DESCRIPTIONS[reason],
                  "driver": {"name": name, "email": email, "phone": phone, "language": language}},
            headers={"Authorization": f"Bearer {self.platform_key}"},
            timeout=self.timeout,
        )
        if answer.status_code != 201:
            raise DriverSimulationError(f"The app API refused the report: {answer.status_code} {answer.text[:300]}")
        self.log.append(f"{name} reported {reason} on {charge_point.ocpp_id} in the app")
        return answer.json()

    def write_to_support(self, charge_point: ChargePoint) -> str:
        """A driver's e-mail to the support address about a charge point; its Message-ID."""
        driver = self._driver(charge_point)
        subject, body = (text.format(ocpp_id=charge_point.ocpp_id) for text in self.rng.choice(SUPPORT_QUESTIONS))
        message_id = self._inbound(driver=driver, subject=subject, body=body)
        self.awaiting_reply.append((message_id, driver, subject))
        self.log.append(f"{driver[0]} wrote to support: {subject}")
        return message_id

    def reply_to_support(self) -> str | None:
        """The driver's reply in the oldest conversation waiting for one."""
        if not self.awaiting_reply:
            return None
        first_id, driver, subject = self.awaiting_reply.pop(0)
        body = self.rng.choice(REPLIES)
        message_id = self._inbound(driver=driver, subject=f"Re: {subject}", body=f"{body}\n\n> {subject}",
                                   stripped=body, answers=first_id)
        self.log.append(f"{driver[0]} replied to support: {body}")
        return message_id

    def _inbound(self, *, driver: tuple, subject: str, body: str, stripped: str = "", answers: str = "") -> str:
        """POST a Postmark inbound payload (its JSON shape) to the webhook."""
        name, email, _phone, _language = driver
        message_id = f"<{uuid.uuid4().hex}@{email.partition('@')[2]}>"
        headers = [{"Name": "Return-Path", "Value": f"<{email}>"}, {"Name": "Message-ID", "Value": message_id}]
        if answers:
            headers += [{"Name": "In-Reply-To", "Value": answers}, {"Name": "References", "Value": answers}]
        payload = {
            "FromName": name, "From": email, "FromFull": {"Email": email, "Name": name, "MailboxHash": ""},
            "To": self.support_address, "ToFull": [{"Email": self.support_address, "Name": "", "MailboxHash": ""}],
            "Cc": "", "CcFull": [], "Bcc": "", "BccFull": [],
            "OriginalRecipient": self.support_address, "ReplyTo": "", "Subject": subject,
            "MessageID": str(uuid.uuid4()), "Date": format_datetime(timezone.now()), "MailboxHash": "",
            "TextBody": body, "HtmlBody": "", "StrippedTextReply": stripped, "Tag": "",
            "Headers": headers, "Attachments": [], "MessageStream": "inbound",
        }
        user, _, password = self.webhook_secret.partition(":")
        answer = requests.post(f"{self.base_url}/anymail/postmark/inbound/", data=json.dumps(payload),
                               headers={"Content-Type": "application/json"}, auth=(user, password),
                               timeout=self.timeout)
        if answer.status_code != 200:
            raise DriverSimulationError(f"The inbound webhook refused the e-mail: {answer.status_code} {answer.text[:300]}")
        return message_id

    # --- the demo ---

    def charge_points(self) -> list[ChargePoint]:
        qs = ChargePoint.objects.select_related("site").order_by("pk")
        for prefix in BULK_PREFIXES:
            qs = qs.exclude(ocpp_id__startswith=prefix)
        return list(qs[:100])

    def act(self, step: int) -> None:
        """One driver's action: the page, the app, an e-mail, its reply, in turn."""
        charge_points = self.charge_points()
        if not charge_points:
            raise DriverSimulationError("No demo charge points: run `python manage.py seed_demo` first.")
        action = step % 4
        try:
            if action == 0:
                self.report_on_page(self.rng.choice(charge_points))
            elif action == 1:
                self.report_in_app(self.rng.choice(charge_points))
            elif action == 2:
                self.write_to_support(self.rng.choice(charge_points))
            else:
                self.reply_to_support()
        except requests.RequestException as error:  # the web server restarting (runserver reloads)
            raise DriverSimulationError(f"Could not reach {self.base_url}: {error}") from error

    def wait_for_server(self, *, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if requests.get(f"{self.base_url}/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise DriverSimulationError(f"The web server at {self.base_url} did not answer in {seconds:g} s.")
            time.sleep(1)

    def _driver(self, charge_point: ChargePoint) -> tuple:
        danish = charge_point.site.country == "DK"
        return self.rng.choice([d for d in DRIVERS if (d[3] == "da") == danish])


def demo_drivers_from_settings(*, base_url: str, platform_key: str, seed: int | None = None) -> DemoDrivers:
    secret = (getattr(settings, "ANYMAIL", {}) or {}).get("WEBHOOK_SECRET", "")
    if isinstance(secret, list | tuple):
        secret = secret[0] if secret else ""
    return DemoDrivers(base_url=base_url, platform_key=platform_key, webhook_secret=secret,
                       support_address=settings.SUPPORT_EMAIL_ADDRESS, rng=random.Random(seed))
