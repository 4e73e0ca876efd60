"""A real SMTP server in the test process (aiosmtpd, in its own thread),
failing the ways a mail server does: accept; 4xx or 5xx for the recipient;
drop the connection after DATA before replying; answer DATA only after the
client's timeout. A fault can be limited to the next N times it happens,
after which the server accepts again (a provider's outage that ends)."""

from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_bytes

from aiosmtpd.controller import Controller

ACCEPT, TEMPORARY, PERMANENT, DROP_AFTER_DATA, LATE = "accept", "4xx", "5xx", "drop", "late"


class FaultySmtpHandler:
    def __init__(self) -> None:
        self.mode = ACCEPT
        # How many more times the fault happens before the server accepts
        # again; None: until the mode is changed.
        self.faults_left: int | None = None
        # Seconds DATA's answer waits in LATE mode (longer than the client's
        # EMAIL_TIMEOUT), and before every answer to DATA (a slow server).
        self.late_seconds = 0.0
        self.delay_seconds = 0.0
        # Addresses always refused with a 5xx (a mailbox that does not exist).
        self.refused: set[str] = set()
        # Every message whose DATA reached the server, even when the client
        # never heard the answer: what a recipient's mailbox may hold.
        self.received = []
        self.sessions = 0
        self._lock = threading.Lock()

    def fault(self, mode: str, *, times: int | None = None) -> None:
        with self._lock:
            self.mode, self.faults_left = mode, times

    def _take_fault(self, *modes: str) -> str | None:
        """The current fault if it is one of ``modes`` (counting it down)."""
        with self._lock:
            if self.mode not in modes:
                return None
            mode = self.mode
            if self.faults_left is not None:
                self.faults_left -= 1
                if self.faults_left <= 0:
                    self.mode, self.faults_left = ACCEPT, None
            return mode

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 5.1.1 No such mailbox here"
        fault = self._take_fault(TEMPORARY, PERMANENT)
        if fault == TEMPORARY:
            return "451 4.3.0 Mailbox busy, try again later"
        if fault == PERMANENT:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content)
        with self._lock:
            self.received.append(message)
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        fault = self._take_fault(DROP_AFTER_DATA, LATE)
        if fault == DROP_AFTER_DATA:
            server.transport.close()  # accepted, but the client never hears so
        elif fault == LATE:
            await asyncio.sleep(self.late_seconds)  # the client has given up by now
        return "250 2.0.0 Queued"

    def copies_by_notification(self) -> dict[str, list]:
        """Received messages grouped by their X-Report-Notification-Id."""
        with self._lock:
            messages = list(self.received)
        grouped: dict[str, list] = {}
        for message in messages:
            grouped.setdefault(message["X-Report-Notification-Id"], []).append(message)
        return grouped


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    def __init__(self) -> None:
        self.handler = FaultySmtpHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=free_port())

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
