"""https:// endpoints: the request goes to the checked address, and the TLS
certificate is checked against the URL's host name (SNI and verification),
not against the address."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from webhooks import services
from webhooks.models import WebhookAttempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def tls_receiver(tmp_path, settings, fake_dns):
    """An HTTPS receiver on 127.0.0.1 with a self-signed certificate for
    hooks.example.com, which resolves to it here."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=hooks.example.com",
         "-addext", "subjectAltName=DNS:hooks.example.com", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(self.headers.get("Host"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    fake_dns["hooks.example.com"] = ["127.0.0.1"]
    yield {"port": server.server_address[1], "cert": cert, "received": received}
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def send_test(setup, url):
    endpoint, _ = services.endpoint_create(team=setup.owner, url=url, events=["report.filed"], by=None)
    delivery = services.endpoint_send_test(endpoint=endpoint, by=None)
    return services.deliveries_send_many(delivery_ids=[delivery.pk])


def test_a_certificate_we_do_not_trust_is_a_failed_attempt(setup, tls_receiver):
    assert send_test(setup, f"https://hooks.example.com:{tls_receiver['port']}/in") == {"retry": 1}
    assert "CERTIFICATE_VERIFY_FAILED" in WebhookAttempt.objects.get().error
    assert tls_receiver["received"] == []


def test_a_trusted_certificate_for_the_urls_name_is_accepted_on_the_pinned_address(setup, tls_receiver,
                                                                                   monkeypatch):
    # Trust the receiver's certificate the way OpenSSL's default paths allow.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_receiver["cert"]))
    assert send_test(setup, f"https://hooks.example.com:{tls_receiver['port']}/in") == {"succeeded": 1}
    assert tls_receiver["received"] == [f"hooks.example.com:{tls_receiver['port']}"]
