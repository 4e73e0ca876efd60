"""core/admin/base.py: the theme's base classes, and its lists building the
column headers once per page instead of once per row."""

import re

import pytest

import core.admin.base as base
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db


def test_a_list_builds_its_column_headers_once_not_per_row(client, support_user, monkeypatch):
    for i in range(5):
        ChargePointFactory(name=f"Quay {i}")
    builds = []
    build = base._build_result_headers
    monkeypatch.setattr(base, "_build_result_headers", lambda cl: builds.append(cl) or build(cl))
    client.force_login(support_user)

    html = client.get("/admin/chargepoints/chargepoint/").content.decode()

    assert len(builds) == 1
    # Every row's cells still carry their column's name (the narrow screens' labels).
    assert len(re.findall(r'<td class="field-ocpp_id[^"]*" data-label="OCPP id"', html)) == 5
