"""The reports list as CSV: what the list shows, streamed, contact details
only where the viewer may see them, formulas neutralised."""

import csv
import io

import pytest
from django.http import StreamingHttpResponse

from accounts.models import Role
from reporting import services
from reporting.catalogue import Reason, Source
from reporting.exports import MASKED, safe_cell
from tests.factories import ChargePointFactory, ReportFactory, TeamFactory

pytestmark = pytest.mark.django_db

EXPORT = "/admin/reporting/report/export.csv"
OP_EXPORT = "/operator/reporting/report/export.csv"


def _rows(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _report(charge_point=None, **kwargs):
    return services.report_create(
        charge_point=charge_point or ChargePointFactory(), source=kwargs.pop("source", Source.USER),
        reason=kwargs.pop("reason", Reason.NOT_WORKING), description=kwargs.pop("description", "Screen is black"),
        **kwargs,
    )


def test_export_is_a_streamed_csv_with_the_date_in_its_name_and_the_list_links_to_it(client, support_user):
    report = _report(reporter_name="Ann Driver", reporter_email="ann@example.com", reporter_phone="+4512345678")
    client.force_login(support_user)

    response = client.get(EXPORT)

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="reports-20')
    [row] = _rows(response)
    cp = report.charge_point
    assert (row["id"], row["charge point"], row["site"], row["owner"], row["operator"]) == (
        str(report.pk), cp.name, cp.site.name, cp.owner.name, cp.operator.name)
    assert (row["reason"], row["state"], row["source"]) == ("Charge point is not working", "Open", "User")
    assert (row["driver name"], row["driver e-mail"]) == ("Ann Driver", "ann@example.com")
    page = client.get("/admin/reporting/report/?q=zzz").content.decode()
    assert 'href="/admin/reporting/report/export.csv?q=zzz"' in page and "Export CSV" in page


def test_export_honours_filters_and_search(client, support_user):
    broken = _report(reason=Reason.BROKEN, description="Cable torn off")
    other = _report(reason=Reason.NOT_WORKING, description="Cable torn off too")
    resolved = _report(reason=Reason.BROKEN, description="Screen")
    services.report_resolve(report=resolved, by=support_user, note="fixed")
    client.force_login(support_user)

    def ids(query):
        return {int(row["id"]) for row in _rows(client.get(EXPORT + query))}

    assert ids("") == {broken.pk, other.pk}  # the list's default view: unresolved
    assert ids("?state=all") == {broken.pk, other.pk, resolved.pk}
    assert ids("?state=all&reason__exact=broken") == {broken.pk, resolved.pk}
    assert ids("?reason__exact=broken&state=unresolved") == {broken.pk}
    assert ids("?q=torn") == {broken.pk, other.pk}
    assert ids("?q=torn&reason__exact=broken") == {broken.pk}


def test_a_team_member_exports_their_teams_reports_only(client, member_factory):
    team = TeamFactory()
    ours = _report(charge_point=ChargePointFactory(operator=team))
    theirs = _report()
    client.force_login(member_factory(team, Role.ADMIN))

    rows = _rows(client.get(OP_EXPORT))

    assert [int(row["id"]) for row in rows] == [ours.pk]
    assert _rows(client.get(OP_EXPORT + f"?q=%23{theirs.pk}")) == []


def test_drivers_contact_details_follow_need_to_know(client, member_factory, support_user):
    team = TeamFactory()
    cp = ChargePointFactory(operator=team)
    open_report = _report(charge_point=cp, reporter_name="Ann Driver", reporter_email="ann@example.com",
                          reporter_phone="+4512345678")
    closed = _report(charge_point=cp, reporter_name="Bo Driver", reporter_email="bo@example.com")
    services.report_resolve(report=closed, by=support_user, note="fixed")

    def contacts(user):
        client.force_login(user)
        return {int(r["id"]): (r["driver name"], r["driver e-mail"], r["driver phone"])
                for r in _rows(client.get(OP_EXPORT + "?state=all"))}

    installer = contacts(member_factory(team, Role.INSTALLER))
    assert installer[open_report.pk] == ("Ann Driver", "ann@example.com", "+4512345678")
    assert installer[closed.pk] == (MASKED, MASKED, "")  # resolved: masked for the team
    viewer = contacts(member_factory(team, Role.VIEWER))
    assert viewer[open_report.pk] == (MASKED, MASKED, MASKED)
    assert "ann@example.com" not in str(viewer) and "Bo Driver" not in str(viewer)
    client.force_login(support_user)
    support = {int(r["id"]): r["driver e-mail"] for r in _rows(client.get(EXPORT + "?state=all"))}
    assert support[closed.pk] == "bo@example.com"


def test_a_formula_in_a_cell_is_neutralised(client, support_user):
    cp = ChargePointFactory(name="=HYPERLINK(\"http://evil\")")
    _report(charge_point=cp, reporter_name="@SUM(A1)")
    client.force_login(support_user)

    [row] = _rows(client.get(EXPORT))

    assert row["charge point"] == "'=HYPERLINK(\"http://evil\")"
    assert row["driver name"] == "'@SUM(A1)"
    cells = ["+1+cmd|' /C calc'!A0", "-2+3", "=1", "\tx", "plain", None, 7, "+45 12 34 56 78", "-2"]
    assert [safe_cell(v) for v in cells] == [
        "'+1+cmd|' /C calc'!A0", "'-2+3", "'=1", "'\tx", "plain", "", "7", "+45 12 34 56 78", "-2"]


def test_export_reads_in_chunks_and_needs_the_view_permission(client, support_user, django_assert_max_num_queries):
    for _ in range(5):
        ReportFactory()
    client.force_login(support_user)
    response = client.get(EXPORT)
    with django_assert_max_num_queries(3):  # one query however many rows (SQLite reads in chunks)
        assert len(_rows(response)) == 5
    client.logout()
    assert client.get(OP_EXPORT).status_code == 302  # to the login page
