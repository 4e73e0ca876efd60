"""core/admin/fast_rows.py: the reports list's rows written in Python are
the very markup django-unfold writes (same cells, classes, labels, links,
stripes), for support and for an operator, with the filters kept in the
row links."""

import re

import pytest

from accounts.admin_sites import operator_site, support_site
from accounts.models import Role
from reporting.catalogue import Party
from reporting.models import Report
from tests.factories import ChargePointFactory, ReportFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _table(html: str) -> str:
    table = html[html.index('<table id="result_list"'):]
    table = table[:table.index("</table>")]
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", table))


@pytest.mark.parametrize("where", ["admin", "operator"])
def test_fast_rows_write_what_unfold_writes(client, member_factory, monkeypatch, where):
    team = TeamFactory()
    cp = ChargePointFactory(site__team=team, owner=team, operator=team, name="Harbour <1>")
    other = ChargePointFactory(site__team=team, owner=team, operator=TeamFactory(name="Run & Co"))
    assignee = UserFactory(first_name="Ann", last_name="Berg")
    ReportFactory(charge_point=cp, description="<b>not bold</b>")
    ReportFactory(charge_point=other, assigned_party=Party.OWNER, assigned_to=assignee, state="assigned")
    ReportFactory(charge_point=cp, occurrences=1234)
    if where == "admin":
        from tests.factories import SupportUserFactory

        user, site = SupportUserFactory(), support_site
    else:
        user, site = member_factory(team, Role.ADMIN), operator_site
    client.force_login(user)
    url = f"/{where}/reporting/report/?state=all&reason__exact=not_working"
    model_admin = site._registry[Report]
    assert model_admin.fast_rows

    fast = client.get(url).content.decode()
    monkeypatch.setattr(model_admin, "fast_rows", False)
    unfold = client.get(url).content.decode()

    assert _table(fast) == _table(unfold)
    assert "Harbour &lt;1&gt;" in fast and "<b>not bold</b>" not in fast
    assert "_changelist_filters=state%3Dall%26reason__exact%3Dnot_working" in fast
