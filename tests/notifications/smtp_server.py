"""A real SMTP server in the test process (aiosmtpd, in its own thread),
failing the ways a mail server does: accept; 4xx or 5xx for the recipient;
drop the connection after DATA before replying."""

from __future__ import annotations

import socket
from email import message_from_bytes

from aiosmtpd.controller import Controller

ACCEPT, TEMPORARY, PERMANENT, DROP_AFTER_DATA = "accept", "4xx", "5xx", "drop"


class FaultySmtpHandler:
    def __init__(self) -> None:
        self.mode = ACCEPT
        # Every message whose DATA reached the server, even when the client
        # never heard the answer: what a recipient's mailbox may hold.
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == TEMPORARY:
            return "451 4.3.0 Mailbox busy, try again later"
        if self.mode == PERMANENT:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(message_from_bytes(envelope.original_content or envelope.content))
        if self.mode == DROP_AFTER_DATA:
            server.transport.close()  # accepted, but the client never hears so
        return "250 2.0.0 Queued"


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
