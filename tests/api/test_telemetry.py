from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from chargepoints.models import Charge, ChargePointState, Heartbeat, SignalReading, StateChange

pytestmark = pytest.mark.django_db


def at(minutes_ago=0):
    return (timezone.now() - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def state_event(world, event_id="e1", **extra):
    return {"event_id": event_id, "type": "state_change", "ocpp_id": world.cp.ocpp_id,
            "occurred_at": at(1), "status": "Faulted", "error_code": "GroundFailure", **extra}


def send(client, events):
    return client.post("/api/v1/telemetry/", {"events": events}, format="json")


def test_a_mixed_batch_is_recorded_and_moves_the_live_state(world):
    events = [
        state_event(world),
        {"event_id": "e2", "type": "heartbeat", "ocpp_id": world.cp.ocpp_id, "occurred_at": at(1)},
        {"event_id": "e3", "type": "signal", "ocpp_id": world.cp.ocpp_id, "occurred_at": at(1),
         "kind": "cellular", "dbm": -109},
        {"event_id": "e4", "type": "charge", "ocpp_id": world.cp.ocpp_id, "started_at": at(30),
         "ended_at": at(2), "energy_wh": 0, "stop_reason": "Local"},
    ]
    response = send(world.client, events)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (4, 0, 0)
    assert [r["event_id"] for r in body["results"]] == ["e1", "e2", "e3", "e4"]
    world.cp.refresh_from_db()
    assert (world.cp.state, world.cp.error_code, world.cp.cellular_signal_dbm) == (
        ChargePointState.ERROR, "GroundFailure", -109
    )
    assert (StateChange.objects.count(), Heartbeat.objects.count(), SignalReading.objects.count()) == (1, 1, 1)
    assert Charge.objects.get().outcome == "failed"


def test_ingest_is_idempotent_on_event_ids(world):
    # A resend is the same event, its time included (on PostgreSQL the id is
    # unique per charge point and event time: docs/operations.md).
    event = state_event(world)
    send(world.client, [event])
    body = send(world.client, [event, state_event(world, "e9")]).json()
    assert [r["status"] for r in body["results"]] == ["duplicate", "accepted"]
    assert StateChange.objects.count() == 2


def test_another_teams_event_with_the_same_id_is_stored_not_a_duplicate(world):
    """Event ids are unique per charge point: team A's id cannot shadow team
    B's event (nor tell B that A used it)."""
    assert send(world.client, [state_event(world, "csms-1")]).json()["accepted"] == 1

    theirs = {**state_event(world, "csms-1"), "ocpp_id": world.their_cp.ocpp_id}
    body = send(world.their_client, [theirs]).json()

    assert [r["status"] for r in body["results"]] == ["accepted"]
    assert sorted(StateChange.objects.filter(event_id="csms-1").values_list("charge_point_id", flat=True)) == sorted(
        [world.cp.pk, world.their_cp.pk]
    )
    world.their_cp.refresh_from_db()
    assert world.their_cp.state == ChargePointState.ERROR


def test_a_charge_sent_twice_is_answered_duplicate_and_stored_once_another_teams_is_not(world):
    charge = {"event_id": "tx-1", "type": "charge", "ocpp_id": world.cp.ocpp_id, "started_at": at(30),
              "ended_at": at(2), "energy_wh": 7000, "stop_reason": "Local"}
    assert send(world.client, [charge]).json()["accepted"] == 1

    body = send(world.client, [charge, {**charge, "event_id": "tx-2"}]).json()
    theirs = send(world.their_client, [{**charge, "ocpp_id": world.their_cp.ocpp_id}]).json()

    assert body == {"accepted": 1, "duplicates": 1, "rejected": 0, "results": [
        {"event_id": "tx-1", "status": "duplicate", "errors": {}},
        {"event_id": "tx-2", "status": "accepted", "errors": {}},
    ]}
    assert theirs["results"] == [{"event_id": "tx-1", "status": "accepted", "errors": {}}]
    assert sorted(Charge.objects.values_list("event_id", "charge_point_id", "outcome")) == sorted([
        ("tx-1", world.cp.pk, "completed"), ("tx-2", world.cp.pk, "completed"),
        ("tx-1", world.their_cp.pk, "completed"),
    ])


def test_each_event_is_answered_and_the_valid_ones_recorded(world):
    events = [
        state_event(world),
        {"event_id": "bad", "type": "signal", "ocpp_id": world.cp.ocpp_id, "occurred_at": at(), "kind": "wifi",
         "dbm": 20},
        {"event_id": "what", "type": "teleport", "ocpp_id": world.cp.ocpp_id},
    ]
    body = send(world.client, events).json()
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected", "rejected"]
    assert "dbm" in body["results"][1]["errors"] and "type" in body["results"][2]["errors"]
    assert StateChange.objects.count() == 1 and not SignalReading.objects.exists()


def test_a_key_can_never_write_to_another_teams_charge_point(world):
    body = send(world.client, [state_event(world, ocpp_id=world.their_cp.ocpp_id)]).json()
    assert body["results"][0] == {"event_id": "e1", "status": "rejected", "errors": {"ocpp_id": "Unknown charge point."}}
    world.their_cp.refresh_from_db()
    assert world.their_cp.state == ChargePointState.AVAILABLE


def test_a_viewer_key_cannot_send_telemetry(world):
    response = send(world.viewer, [state_event(world)])
    assert response.status_code == 403
    assert not StateChange.objects.exists()


def test_an_installer_key_can(world, make_key, client_for):
    _, raw = make_key(world.ours, Role.INSTALLER, name="CSMS")
    assert send(client_for(raw), [state_event(world)]).json()["accepted"] == 1


def test_telemetry_without_key_is_401(anon, world):
    assert send(anon, [state_event(world)]).status_code == 401


@pytest.mark.parametrize(
    "body, message",
    [
        ([{"event_id": "x"}], "Send an object"),
        ({"events": {}}, "Must be a list"),
        ({"events": []}, "at least one"),
        ({"events": [1, "x"]}, "Must be an object"),
        ({"events": [{"event_id": str(i)} for i in range(1001)]}, "At most 1,000"),
    ],
)
def test_a_bad_envelope_is_400(world, body, message):
    response = world.client.post("/api/v1/telemetry/", body, format="json")
    assert response.status_code == 400
    assert message in str(response.json()["fields"]["events"])


def test_a_full_batch_of_1000_is_accepted(world):
    events = [
        {"event_id": f"hb-{i}", "type": "heartbeat", "ocpp_id": world.cp.ocpp_id, "occurred_at": at(2)}
        for i in range(1000)
    ]
    assert send(world.client, events).json()["accepted"] == 1000


@pytest.mark.parametrize("value", ["0090-04-27T20:35:18+18:36", "0001-01-01T00:30:00+01:00"])
def test_odd_timestamps_never_fail(world, value):
    response = send(world.client, [state_event(world, occurred_at=value)])
    assert response.status_code in (200, 400)


# --- history ------------------------------------------------------------------------


def test_history_lists_our_events_only_newest_first(world):
    send(world.client, [state_event(world, "a", occurred_at=at(5)), state_event(world, "b", occurred_at=at(2))])
    send(world.their_client, [state_event(world, "c", ocpp_id=world.their_cp.ocpp_id)])
    body = world.client.get("/api/v1/telemetry/state-changes/").json()
    assert [e["event_id"] for e in body["results"]] == ["b", "a"]
    assert body["results"][0]["ocpp_id"] == world.cp.ocpp_id
    assert "count" not in body  # cursor pagination


@pytest.mark.parametrize(
    "path", ["state-changes", "heartbeats", "signal-readings", "charges"]
)
def test_history_endpoints_scope_and_authenticate(world, anon, path):
    assert world.client.get(f"/api/v1/telemetry/{path}/").status_code == 200
    assert anon.get(f"/api/v1/telemetry/{path}/").status_code == 401
    response = world.client.get(f"/api/v1/telemetry/{path}/?charge_point={world.their_cp.pk}")
    assert response.status_code == 400 and "charge_point" in response.json()["fields"]


def test_history_of_another_team_is_404(world):
    send(world.their_client, [state_event(world, "c", ocpp_id=world.their_cp.ocpp_id)])
    row = StateChange.objects.get()
    assert world.client.get(f"/api/v1/telemetry/state-changes/{row.pk}/").status_code == 404
    assert world.their_client.get(f"/api/v1/telemetry/state-changes/{row.pk}/").status_code == 200


def test_history_filters(world):
    send(world.client, [
        {"event_id": "w", "type": "signal", "ocpp_id": world.cp.ocpp_id, "occurred_at": at(3), "kind": "wifi", "dbm": -85},
        {"event_id": "c", "type": "signal", "ocpp_id": world.cp.ocpp_id, "occurred_at": at(2), "kind": "cellular", "dbm": -70},
        {"event_id": "ok", "type": "charge", "ocpp_id": world.cp.ocpp_id, "started_at": at(60), "ended_at": at(10), "energy_wh": 9000},
        {"event_id": "ko", "type": "charge", "ocpp_id": world.cp.ocpp_id, "started_at": at(60), "ended_at": at(9), "energy_wh": 0},
    ])
    ids = lambda url: [e["event_id"] for e in world.client.get(url).json()["results"]]  # noqa: E731
    assert ids("/api/v1/telemetry/signal-readings/?kind=wifi") == ["w"]
    assert ids("/api/v1/telemetry/signal-readings/?dbm_max=-80") == ["w"]
    assert ids("/api/v1/telemetry/charges/?outcome=failed") == ["ko"]
    assert ids(f"/api/v1/telemetry/charges/?ocpp_id={world.cp.ocpp_id}") == ["ko", "ok"]
    assert ids(f"/api/v1/telemetry/signal-readings/?team={world.ours.pk}&occurred_after={at(2.5)}") == ["c"]
    assert world.client.get("/api/v1/telemetry/charges/?outcome=meh").status_code == 400


def test_a_time_that_cannot_be_stored_rejects_only_its_event(world):
    body = send(world.client, [state_event(world, "old", occurred_at="0001-01-01T00:30:00+01:00"),
                               state_event(world, "ok")]).json()
    assert [r["status"] for r in body["results"]] == ["rejected", "accepted"]
    assert "occurred_at" in body["results"][0]["errors"]


def test_an_offset_postgresql_refuses_is_stored_in_utc(world):
    body = send(world.client, [state_event(world, occurred_at="2026-01-01T20:35:18+18:36")]).json()
    assert body["results"][0]["status"] == "accepted"
    assert StateChange.objects.get().occurred_at.isoformat() == "2026-01-01T01:59:18+00:00"


def test_text_with_a_nul_character_rejects_only_its_event(world):
    body = send(world.client, [state_event(world, "nul", ocpp_id="CP\x00"), state_event(world, "ok")]).json()
    assert [r["status"] for r in body["results"]] == ["rejected", "accepted"]
    assert body["results"][0]["errors"] == {"ocpp_id": "Must not contain NUL characters."}
