"""QR stickers: the code on the charge point page and the printable sheet
decode, with a real decoder (zbarimg), to the charge point's report page."""

import base64
import re
import shutil
import subprocess

import pytest

from accounts.models import Role
from tests.factories import ChargePointFactory, TeamFactory

pytestmark = pytest.mark.django_db

ZBARIMG = shutil.which("zbarimg")


def decode(png: bytes, tmp_path) -> str:
    if ZBARIMG is None:
        pytest.skip("needs zbarimg to decode QR codes (apt-get install zbar-tools)")
    path = tmp_path / "qr.png"
    path.write_bytes(png)
    result = subprocess.run([ZBARIMG, "--quiet", "--raw", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def base_url(settings):
    settings.PUBLIC_REPORT_BASE_URL = "https://cp.example"
    return settings.PUBLIC_REPORT_BASE_URL


@pytest.mark.parametrize("site", ["admin", "operator"])
def test_charge_point_page_shows_a_qr_code_that_decodes_to_its_report_page(client, support_user, member_factory,
                                                                            base_url, tmp_path, site):
    cp = ChargePointFactory()
    client.force_login(support_user if site == "admin" else member_factory(cp.owner, Role.VIEWER))
    html = client.get(f"/{site}/chargepoints/chargepoint/{cp.pk}/change/").content.decode()
    expected = f"https://cp.example/r/{cp.public_code}/"
    assert 'id="driver-qr"' in html and expected in html
    inline = re.search(r'id="driver-qr">.*?src="data:image/png;base64,([^"]+)"', html, re.S).group(1)
    assert decode(base64.b64decode(inline), tmp_path) == expected
    png = client.get(f"/{site}/chargepoints/chargepoint/{cp.pk}/qr.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert decode(png.content, tmp_path) == expected


def test_qr_png_of_another_teams_charge_point_is_not_found(client, member_factory):
    cp = ChargePointFactory()
    client.force_login(member_factory(TeamFactory(), Role.ADMIN))
    assert client.get(f"/operator/chargepoints/chargepoint/{cp.pk}/qr.png").status_code == 404


@pytest.mark.parametrize("site", ["admin", "operator"])
def test_bulk_action_prints_a_sticker_per_selected_charge_point(client, support_user, member_factory, base_url,
                                                                tmp_path, site):
    team = TeamFactory()
    cps = [ChargePointFactory(site__team=team, name=f"Harbour {i}") for i in range(3)]
    other = ChargePointFactory(name="Not selected")
    client.force_login(support_user if site == "admin" else member_factory(team, Role.VIEWER))
    response = client.post(f"/{site}/chargepoints/chargepoint/", {
        "action": "print_qr_stickers", "_selected_action": [cp.pk for cp in cps[:2]],
    })
    assert response.status_code == 200
    html = response.content.decode()
    stickers = re.findall(
        r'<div class="sticker">\s*<img src="data:image/png;base64,([^"]+)".*?<div class="title">([^<]+)</div>'
        r'.*?<div class="code">([^<]+)</div>\s*<div class="url">([^<]+)</div>', html, re.S)
    assert [(name, code) for _, name, code, _ in stickers] == [(cp.name, cp.public_code) for cp in cps[:2]]
    for image, _, code, short_url in stickers:
        assert short_url == f"https://cp.example/r/{code}/"
        assert decode(base64.b64decode(image), tmp_path) == short_url
    assert other.name not in html and cps[2].name not in html


@pytest.mark.parametrize("site", ["admin", "operator"])
def test_a_charge_points_sticker_sheet_has_its_link(client, support_user, member_factory, base_url, tmp_path, site):
    cp = ChargePointFactory(name="Harbour 1")
    ChargePointFactory(site=cp.site, name="Harbour 2")
    client.force_login(support_user if site == "admin" else member_factory(cp.owner, Role.VIEWER))
    html = client.get(f"/{site}/chargepoints/chargepoint/{cp.pk}/stickers/").content.decode()
    stickers = re.findall(r'<div class="sticker">\s*<img src="data:image/png;base64,([^"]+)"', html)
    assert len(stickers) == 1 and "Harbour 1" in html and "Harbour 2" not in html
    assert decode(base64.b64decode(stickers[0]), tmp_path) == f"https://cp.example/r/{cp.public_code}/"


def test_sticker_sheet_of_another_teams_charge_point_is_not_found(client, member_factory):
    cp = ChargePointFactory()
    client.force_login(member_factory(TeamFactory(), Role.ADMIN))
    assert client.get(f"/operator/chargepoints/chargepoint/{cp.pk}/stickers/").status_code == 404
