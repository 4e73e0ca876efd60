"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

The signed content is ``f"{webhook_id}.{timestamp}.{body}"``; the signature
is ``"v1," + base64(HMAC-SHA256(secret_bytes, content))``, where
``secret_bytes`` is the base64-decoded part of the ``whsec_...`` secret.
Several signatures, separated by spaces, may travel in one header (the
current and the former secret during a rotation)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(*, secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    content = f"{webhook_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_bytes(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(*, secrets_: list[str], webhook_id: str, timestamp: int, body: str) -> str:
    return " ".join(sign(secret=s, webhook_id=webhook_id, timestamp=timestamp, body=body) for s in secrets_)
