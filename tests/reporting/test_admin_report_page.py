"""The report page: one header, tabs, one date format in the user's time
zone, unique ids, no stale resolution note, no "View site" or Close."""

import re
from collections import Counter

import pytest

from accounts.models import Role, Team
from reporting import services
from reporting.catalogue import Reason, Source
from reporting.system_text import translate_note
from tests.factories import ChargePointFactory, TeamFactory

pytestmark = pytest.mark.django_db

PAGE = "/admin/reporting/report/{}/change/"


def _report(**kwargs):
    return services.report_create(charge_point=kwargs.pop("charge_point", None) or ChargePointFactory(),
                                  source=Source.USER, reason=Reason.NOT_WORKING, description="Screen is black",
                                  **kwargs)


def test_the_header_names_everything_once_with_the_actions_and_the_tabs_follow(client, support_user):
    report = _report(reporter_name="Ann Driver", reporter_email="ann@example.com")
    cp = report.charge_point
    client.force_login(support_user)

    html = client.get(PAGE.format(report.pk)).content.decode()

    header = html[html.index('id="report-header"'):html.index('class="bo-tabs"')]
    for text in ("Charge point", cp.name, "Charging site", cp.site.name, "Team owner", cp.owner.name, "Operator",
                 "State", "Age", "Occurrences", "Assigned to", "Assign…", "Resolve…", "Ann Driver"):
        assert text in header, text
    for tab in ("#timeline", "#conversation", "#evidence", "#emails"):
        assert f'href="{tab}" data-tab-link=' in html
    # The admin's own blocks are gone: no Close button, no History page, no "View site".
    assert 'name="_continue"' not in html and ">Close<" not in html
    assert "/history/" not in html and "View site" not in html


def test_every_id_on_the_page_is_unique_so_each_label_finds_its_own_field(client, support_user):
    report = services.report_create(charge_point=ChargePointFactory(), source=Source.SUPPORT,
                                    reason=Reason.CONVERSATION, by=support_user, description="Help",
                                    messages=[{"sender": "driver", "author_name": "Jan", "body": "Hi"}])
    client.force_login(support_user)

    html = client.get(PAGE.format(report.pk)).content.decode()

    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, n in ids.items() if n > 1] == []
    assert '<label for="comment_body">' in html and 'id="comment_body"' in html
    assert 'id="message_body"' in html


def test_a_reopened_report_does_not_show_its_old_resolution_note(client, support_user):
    report = _report()
    services.report_resolve(report=report, by=support_user, note="Replaced the screen")
    client.force_login(support_user)
    assert 'id="resolution-note"' in client.get(PAGE.format(report.pk)).content.decode()

    services.report_reopen(report=report, by=support_user, note="Black again")
    html = client.get(PAGE.format(report.pk)).content.decode()

    assert 'id="resolution-note"' not in html
    timeline = html[html.index('id="timeline"'):]
    assert "Replaced the screen" in timeline  # the history keeps it


def test_dates_are_in_one_format_in_the_users_time_zone(client, support_user):
    report = _report()
    support_user.time_zone = "Asia/Tokyo"  # UTC+9, no daylight saving
    support_user.save(update_fields=["time_zone"])
    client.force_login(support_user)

    html = client.get(PAGE.format(report.pk)).content.decode()

    local = report.created_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert f"filed {local:%Y-%m-%d %H:%M}" in html
    timeline = html[html.index('id="timeline"'):]
    assert f"{local:%Y-%m-%d %H:%M}" in timeline
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", timeline)  # no second format with seconds


def test_a_danish_reader_gets_the_systems_timeline_sentences_in_danish(client, member_factory):
    team = TeamFactory(language=Team.Language.DANISH)
    report = _report(charge_point=ChargePointFactory(owner=team, operator=team))
    client.force_login(member_factory(team, Role.ADMIN))

    html = client.get(f"/operator/reporting/report/{report.pk}/change/").content.decode()

    assert "Sendt automatisk til ejerteam." in html
    assert "Routed to the" not in html
    assert "Tidslinje" in html and "Ladestanderen virker ikke" in html


def test_system_sentences_are_recognised_and_a_persons_note_is_left_alone():
    from django.utils import translation

    with translation.override("da"):
        assert translate_note("Routed to the team owner automatically.") == "Sendt automatisk til ejerteam."
        assert translate_note("Routed to the owner automatically.") == "Sendt automatisk til ejerteam."
        assert translate_note("Filed by the health checks and routed to the operator automatically.") == "Oprettet af sundhedstjekkene og sendt automatisk til operatør."
        assert translate_note("Resolved by the health checks: The problem is back.") == (
            "Løst af sundhedstjekkene: Problemet er tilbage.")
        assert translate_note(
            "In error since 2026-11-30 07:00 UTC: more than 10 minutes. Error code: none; vendor error code: E7."
        ) == ("I fejl siden 2026-11-30 07:00 UTC: mere end 10 minutter. Fejlkode: ingen; "
              "producentens fejlkode: E7.")
        assert translate_note("Routed to the moon automatically.") == "Routed to the moon automatically."
        assert translate_note("Cable replaced") == "Cable replaced"
