import pytest

from reporting import services
from reporting.catalogue import Reason, Source
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def support_report(world):
    return services.report_create(
        charge_point=world.cp,
        source=Source.SUPPORT,
        reason=Reason.CONVERSATION,
        by=None,  # support reports are support staff's (or the system's)
        messages=[{"sender": "driver", "author_name": "Mette", "body": "It will not start."}],
    )


def test_timeline_lists_every_change_oldest_first(world, support_report):
    services.report_resolve(report=support_report, by=world.key, note="Restarted")
    body = world.client.get(f"/api/v1/reports/{support_report.pk}/timeline/").json()
    assert [e["kind"] for e in body["results"]] == ["created", "message", "resolved"]
    resolved = body["results"][-1]
    assert (resolved["from_state"], resolved["to_state"], resolved["note"]) == ("open", "resolved", "Restarted")


def test_timeline_filters_by_kind_and_searches(world, support_report):
    url = f"/api/v1/reports/{support_report.pk}/timeline/"
    assert [e["kind"] for e in world.client.get(f"{url}?kind=message").json()["results"]] == ["message"]
    assert len(world.client.get(f"{url}?search=start").json()["results"]) == 1
    assert world.client.get(f"{url}?kind=nonsense").status_code == 400


def test_another_teams_timeline_is_404(world):
    report = ReportFactory(charge_point=world.their_cp)
    assert world.client.get(f"/api/v1/reports/{report.pk}/timeline/").status_code == 404
    assert world.client.get(f"/api/v1/reports/{report.pk}/messages/").status_code == 404


def test_timeline_and_messages_without_key_are_401(anon, support_report):
    assert anon.get(f"/api/v1/reports/{support_report.pk}/timeline/").status_code == 401
    assert anon.get(f"/api/v1/reports/{support_report.pk}/messages/").status_code == 401


def test_messages_list_the_conversation(world, support_report):
    body = world.client.get(f"/api/v1/reports/{support_report.pk}/messages/").json()
    assert [(m["sender"], m["author_name"], m["body"]) for m in body["results"]] == [
        ("driver", "Mette", "It will not start.")
    ]


def test_add_a_message(world, support_report):
    response = world.client.post(
        f"/api/v1/reports/{support_report.pk}/messages/",
        {"sender": "driver", "author_name": "Mette", "body": "It works now."},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["author_name"] == "Mette"
    assert support_report.messages.count() == 2
    assert support_report.events.filter(kind="message").count() == 2


def test_messages_filter_by_sender(world, support_report):
    services.report_add_message(report=support_report, by=None, sender="support", body="On it")
    body = world.client.get(f"/api/v1/reports/{support_report.pk}/messages/?sender=support").json()
    assert [m["body"] for m in body["results"]] == ["On it"]


@pytest.mark.parametrize(
    "data, field", [({"sender": "robot", "body": "x"}, "sender"), ({"sender": "driver"}, "body"),
                    ({"sender": "driver", "body": "   "}, "body")]
)
def test_bad_message_is_400(world, support_report, data, field):
    response = world.client.post(f"/api/v1/reports/{support_report.pk}/messages/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_a_user_report_has_no_conversation(world):
    report = ReportFactory(charge_point=world.cp)
    response = world.client.post(
        f"/api/v1/reports/{report.pk}/messages/", {"sender": "driver", "body": "hi"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"report": ["Only support reports carry a conversation."]}


def test_a_viewer_key_cannot_add_messages(world, support_report):
    response = world.viewer.post(
        f"/api/v1/reports/{support_report.pk}/messages/", {"sender": "support", "body": "x"}, format="json"
    )
    assert response.status_code == 403
