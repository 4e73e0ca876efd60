"""A driver's photo: checked to be a JPEG or PNG image by decoding it with
Pillow (not by its name or declared type), and re-encoded from its pixels
so that no metadata survives (EXIF with GPS position and camera serial,
XMP, comments, embedded thumbnails)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}


class PhotoRefused(ValueError):
    """The file is not a photo we keep; the message is for the driver."""


@dataclass(frozen=True)
class CleanPhoto:
    content: bytes
    content_type: str
    filename: str


def photo_clean(upload) -> CleanPhoto:
    """Check and re-encode an uploaded file (a Django UploadedFile)."""
    limits = settings.DRIVER_REPORTS
    if upload.size > limits["max_photo_bytes"]:
        raise PhotoRefused(_("The photo is too large: at most 5 MB."))
    upload.seek(0)
    data = upload.read()
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice its limit.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                if fmt not in FORMATS:
                    raise PhotoRefused(_("The photo must be a JPEG or PNG image."))
                if probe.width * probe.height > limits["max_photo_pixels"]:
                    raise PhotoRefused(_("The photo has too many pixels."))
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                # Turn the picture upright before the orientation tag goes.
                image = ImageOps.exif_transpose(image)
                return _encode(image, fmt)
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused(_("The photo must be a JPEG or PNG image.")) from None
    except (OSError, SyntaxError, ValueError):
        raise PhotoRefused(_("The photo could not be read; it may be damaged.")) from None


def _encode(image: Image.Image, fmt: str) -> CleanPhoto:
    content_type, extension = FORMATS[fmt]
    out = io.BytesIO()
    # A new image from the pixels alone: nothing of image.info is carried over.
    if fmt == "JPEG":
        pixels = image.convert("RGB") if image.mode not in ("RGB", "L") else image
        clean = Image.new(pixels.mode, pixels.size)
        clean.paste(pixels)
        clean.save(out, format="JPEG", quality=85, optimize=True)
    else:
        pixels = image if image.mode in ("RGB", "RGBA", "L", "LA", "P") else image.convert("RGBA")
        clean = Image.new(pixels.mode, pixels.size)
        if pixels.mode == "P":
            clean.putpalette(pixels.getpalette())
        clean.paste(pixels)
        clean.save(out, format="PNG", optimize=True)
    return CleanPhoto(content=out.getvalue(), content_type=content_type, filename=f"photo{extension}")
