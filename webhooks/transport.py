"""One HTTP POST to a checked address (webhooks.addresses.Target): the
connection goes to the address that was checked, the Host header and the
TLS certificate check use the name from the URL. No redirects are
followed (a redirect could point anywhere, including inside our network):
a 3xx is a failed attempt."""

from __future__ import annotations

import time
from dataclasses import dataclass

import urllib3
from urllib3.util import Timeout

from .addresses import Target

EXCERPT_BYTES = 1024


@dataclass(frozen=True)
class Response:
    status_code: int | None
    response_ms: int
    excerpt: str
    error: str


def post(target: Target, *, body: bytes, headers: dict[str, str], connect_timeout: float,
         read_timeout: float) -> Response:
    address = target.addresses[0]
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != default_port:
        host_header = f"{host_header}:{target.port}"
    options = {"timeout": Timeout(connect=connect_timeout, read=read_timeout), "retries": False, "maxsize": 1}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, target.port, cert_reqs="CERT_REQUIRED", assert_hostname=target.host,
            server_hostname=target.host, **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, **options)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST", target.path, body=body, headers={**headers, "Host": host_header},
            redirect=False, preload_content=False, retries=False, assert_same_host=False,
        )
        try:
            excerpt = response.read(EXCERPT_BYTES, decode_content=True)
        finally:
            response.release_conn()
        elapsed = int((time.monotonic() - started) * 1000)
        return Response(response.status, elapsed, excerpt[:EXCERPT_BYTES].decode("utf-8", "replace"), "")
    except Exception as error:  # noqa: BLE001 - every failure is an attempt to log and retry
        elapsed = int((time.monotonic() - started) * 1000)
        return Response(None, elapsed, "", f"{type(error).__name__}: {error}"[:1000])
    finally:
        pool.close()
