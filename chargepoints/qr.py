"""QR codes for the charge points' stickers: each encodes the public report
page's short address, ``<PUBLIC_REPORT_BASE_URL>/r/<public code>/``."""

from __future__ import annotations

import io

import segno
from django.conf import settings


def public_report_url(*, public_code: str) -> str:
    """The address a sticker prints and its QR code encodes."""
    return f"{settings.PUBLIC_REPORT_BASE_URL}/r/{public_code}/"


def _qr(url: str):
    # Error correction "M" (15%) survives a scratched or dirty sticker; a
    # minimum version is not forced so a short base URL gives a coarser code.
    return segno.make(url, error="m", micro=False)


def qr_png(*, public_code: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    _qr(public_report_url(public_code=public_code)).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_png_data_uri(*, public_code: str, scale: int = 6) -> str:
    return _qr(public_report_url(public_code=public_code)).png_data_uri(scale=scale, border=4)
