"""One-click unsubscribe for drivers' status e-mails (RFC 8058): every such
e-mail carries ``List-Unsubscribe`` (a link and the support address) and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, which the large
mailbox providers require of bulk senders. A POST to the link unsubscribes
at once; a GET (a person clicking, or a link scanner) shows a page with a
button, so a scanner cannot unsubscribe anyone.

The link carries a signed SHA-256 of the address, not the address, and the
list of unsubscribed addresses keeps only those hashes. An unsubscribed
driver gets no more status e-mails (received, resolved) but can still
report, and support's answers in a conversation they started still reach
them: they asked for those.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from .models import UnsubscribedAddress

SALT = "notifications.unsubscribe"


def address_hash(email: str) -> str:
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()


def unsubscribe_url(*, email: str) -> str:
    # A plain signature, no timestamp: the same address gets the same link in
    # every e-mail, and a link in an old e-mail still works.
    token = signing.Signer(salt=SALT).sign(address_hash(email))
    return settings.PUBLIC_REPORT_BASE_URL + reverse("unsubscribe", args=[token])


def unsubscribe_headers(*, email: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(email=email)}>, <mailto:{settings.SUPPORT_EMAIL_ADDRESS}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def unsubscribe_token_valid(token: str) -> str | None:
    """The address hash a link carries, or None for a link that is not ours."""
    if not token or len(token) > 200:
        return None
    try:
        return signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None


def driver_unsubscribe(*, token: str) -> bool:
    """Stop status e-mails to the address the link was made for. True when
    the link is ours (also when it was used before)."""
    digest = unsubscribe_token_valid(token)
    if digest is None:
        return False
    try:
        with transaction.atomic():
            UnsubscribedAddress.objects.get_or_create(email_hash=digest)
    except IntegrityError:
        pass  # two clicks at once: the other one wrote it
    return True


def is_unsubscribed(email: str) -> bool:
    return UnsubscribedAddress.objects.filter(email_hash=address_hash(email)).exists()
