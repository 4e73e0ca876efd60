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


def test_every_admin_on_both_sites_is_on_the_theme():
    """A ModelAdmin (and its inlines) registered from any app, including the
    ones added later, takes the theme's base class from core/admin/base.py."""
    from unfold.admin import ModelAdmin as ThemeModelAdmin
    from unfold.admin import StackedInline as ThemeStackedInline
    from unfold.admin import TabularInline as ThemeTabularInline

    from accounts.admin_sites import operator_site, support_site

    off_theme = []
    for site in (support_site, operator_site):
        for model, model_admin in site._registry.items():
            if not isinstance(model_admin, ThemeModelAdmin):
                off_theme.append(f"{site.name}: {type(model_admin).__qualname__} ({model._meta.label})")
            for inline in model_admin.inlines:
                if not issubclass(inline, (ThemeTabularInline, ThemeStackedInline)):
                    off_theme.append(f"{site.name}: inline {inline.__qualname__} of {model._meta.label}")
    assert not off_theme, off_theme
