import io

import pytest
from PIL import Image

from tests.factories import ChargePointFactory, SiteFactory, TeamFactory


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def danish_cp():
    team = TeamFactory(name="Voltway Charging", country="DK")
    site = SiteFactory(team=team, name="Harbour car park", city="Aarhus", country="DK")
    return ChargePointFactory(site=site, name="Harbour 1", ocpp_id="VW-HARB-1")


@pytest.fixture
def dutch_cp():
    team = TeamFactory(name="Greenpark Properties", country="NL")
    site = SiteFactory(team=team, name="Greenpark mall", city="Utrecht", country="NL")
    return ChargePointFactory(site=site, name="Mall entrance", ocpp_id="GP-MALL-1")


def make_image(fmt="JPEG", size=(64, 48), exif_gps=False, mode="RGB") -> bytes:
    image = Image.new(mode, size, color=(200, 30, 30) if mode == "RGB" else None)
    out = io.BytesIO()
    kwargs = {}
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "SecretCam"  # Make
        exif[0x0131] = "PhoneSoft 1.0"  # Software
        exif[0x8825] = {1: "N", 2: (55.0, 40.0, 0.0), 3: "E", 4: (12.0, 34.0, 0.0)}  # GPS IFD
        kwargs["exif"] = exif
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _back_to_english():
    """A Danish request leaves Danish active in the test's thread (Django's
    LocaleMiddleware does not undo it); later tests expect the default."""
    yield
    from django.utils import translation

    translation.deactivate()
