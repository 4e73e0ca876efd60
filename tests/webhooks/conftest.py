"""A real HTTP receiver on 127.0.0.1 (http.server in a thread) that answers
a scripted list of status codes, and a resolver for names the tests make up."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.roles import Role
from tests.factories import (
    ChargePointFactory,
    ReportContactFactory,
    ReportSettingsFactory,
    SiteFactory,
    TeamFactory,
)

# Names the tests resolve without DNS: name -> addresses.
FAKE_DNS = {
    "hooks.example.com": ["93.184.215.14"],
    "rebinding.example.com": ["93.184.215.14"],
    "loopback.example.com": ["127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
}


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch):
    """Made-up names resolve from FAKE_DNS (a test may change it); others as usual."""
    real = socket.getaddrinfo
    table = {name: list(addresses) for name, addresses in FAKE_DNS.items()}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in table[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr("webhooks.addresses.socket.getaddrinfo", getaddrinfo)
    return table


@dataclass
class Received:
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    url: str
    answers: list[int]  # status codes to answer, in order; then 200
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver(settings):
    """A local receiver; sending to it needs private addresses allowed."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    state = Receiver(url="", answers=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            state.received.append(Received(headers={k.lower(): v for k, v in self.headers.items()}, body=body))
            status = state.answers.pop(0) if state.answers else 200
            reply = f"answer {status}".encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/reports?x=1"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@dataclass
class Setup:
    owner: object
    operator: object
    charge_point: object
    owner_admin: object


@pytest.fixture
def setup(member_factory):
    owner = TeamFactory(name="Owner Energy")
    operator = TeamFactory(name="Operator ApS")
    cp = ChargePointFactory(site=SiteFactory(team=owner), owner=owner, operator=operator)
    ReportContactFactory(settings=ReportSettingsFactory(team=owner), email="contact@owner.example")
    return Setup(owner=owner, operator=operator, charge_point=cp, owner_admin=member_factory(owner, Role.ADMIN))
