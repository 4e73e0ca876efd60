"""chargepoints.services.telemetry_record_batch: storing telemetry and moving
the live state forward."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from chargepoints.models import Charge, ChargeOutcome, ChargePointState, Heartbeat, SignalReading, StateChange
from chargepoints.services import charge_failure_reason, telemetry_record_batch
from tests import factories
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def iso(dt):
    return dt.isoformat()


def make_charge_point(**kwargs):
    """A charge point whose live state was set a day ago, so that the
    telemetry of the last hours is news to it."""
    kwargs.setdefault("state_since", timezone.now() - timedelta(days=1))
    return factories.ChargePointFactory(**kwargs)


def state_event(cp, event_id, at, state="error", **extra):
    return {"event_id": event_id, "type": "state_change", "ocpp_id": cp.ocpp_id, "occurred_at": iso(at),
            "state": state, **extra}


def test_a_state_change_moves_the_live_state_and_is_stored():
    cp = make_charge_point(state=ChargePointState.AVAILABLE)
    at = timezone.now() - timedelta(minutes=1)

    [result] = telemetry_record_batch(
        events=[state_event(cp, "e1", at, state="", status="Faulted", error_code="GroundFailure",
                            vendor_error_code="E-42")]
    )

    assert (result.event_id, result.status, result.errors) == ("e1", "accepted", {})
    cp.refresh_from_db()
    assert (cp.state, cp.state_since, cp.error_code, cp.vendor_error_code) == ("error", at, "GroundFailure", "E-42")
    change = StateChange.objects.get(event_id="e1")
    assert (change.state, change.ocpp_status, change.charge_point_id) == ("error", "Faulted", cp.pk)


def test_the_same_event_id_on_two_charge_points_is_two_events_in_one_batch_too():
    one, two = make_charge_point(), make_charge_point()
    at = timezone.now() - timedelta(minutes=1)

    results = telemetry_record_batch(
        events=[state_event(one, "x", at), state_event(two, "x", at), state_event(one, "x", at)]
    )

    assert [r.status for r in results] == ["accepted", "accepted", "duplicate"]
    assert StateChange.objects.filter(event_id="x").count() == 2


def test_event_ids_have_no_global_unique_or_pattern_index(require_postgres):
    """Only the per-charge-point constraint guards an event id: no unique
    index on the id alone, and no ``_like`` (text pattern) copy of one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('chargepoints_statechange', 'chargepoints_heartbeat', 'chargepoints_signalreading', "
            "'chargepoints_charge') AND indexdef LIKE '%%event_id%%'"
        )
        indexes = dict(cursor.fetchall())
    assert not [name for name in indexes if name.endswith("_like")]
    assert sorted(indexes) == [
        "charge_cp_event_id_uniq", "heartbeat_cp_event_id_uniq", "signalreading_cp_event_id_uniq",
        "statechange_cp_event_id_uniq",
    ]
    # The partitioned tables' unique constraints hold their partition key too
    # (docs/operations.md, "Telemetry retention"); charges are not partitioned.
    assert "(charge_point_id, event_id)" in indexes.pop("charge_cp_event_id_uniq")
    assert all("(charge_point_id, event_id, occurred_at)" in definition for definition in indexes.values())


def test_the_same_state_again_keeps_the_time_the_state_began():
    cp = make_charge_point()
    first = timezone.now() - timedelta(minutes=20)
    telemetry_record_batch(events=[state_event(cp, "a", first, error_code="GroundFailure")])
    telemetry_record_batch(events=[state_event(cp, "b", first + timedelta(minutes=5), error_code="OverVoltage")])

    cp.refresh_from_db()
    assert (cp.state_since, cp.error_code) == (first, "OverVoltage")


def test_a_late_state_change_is_stored_but_does_not_move_the_state_back():
    cp = make_charge_point()
    now = timezone.now()
    telemetry_record_batch(events=[state_event(cp, "new", now - timedelta(minutes=1), state="available")])

    [result] = telemetry_record_batch(events=[state_event(cp, "old", now - timedelta(minutes=5), state="error")])

    assert result.status == "accepted"
    assert StateChange.objects.filter(event_id="old").exists()
    cp.refresh_from_db()
    assert cp.state == "available"


def test_an_event_sent_twice_is_a_duplicate_and_changes_nothing():
    cp = make_charge_point()
    at = timezone.now() - timedelta(minutes=3)
    telemetry_record_batch(events=[state_event(cp, "dup", at, state="error")])
    telemetry_record_batch(events=[state_event(cp, "later", at + timedelta(minutes=1), state="available")])

    results = telemetry_record_batch(
        events=[state_event(cp, "dup", at, state="error"), state_event(cp, "x", at, state="busy") | {"event_id": "x"},
                {"event_id": "x", "type": "heartbeat", "ocpp_id": cp.ocpp_id, "occurred_at": iso(at)}]
    )

    assert [r.status for r in results] == ["duplicate", "accepted", "duplicate"]
    assert StateChange.objects.filter(event_id="dup").count() == 1
    cp.refresh_from_db()
    assert cp.state == "available"


def test_malformed_events_are_rejected_with_a_message_per_field_and_the_rest_recorded():
    cp = make_charge_point()
    now = timezone.now()
    events = [
        "not an object",
        {"event_id": "t1", "type": "teleport", "ocpp_id": cp.ocpp_id},
        {"event_id": "t2", "type": "signal", "ocpp_id": cp.ocpp_id, "occurred_at": "yesterday", "kind": "radio",
         "dbm": True},
        {"event_id": "t3", "type": "heartbeat", "ocpp_id": cp.ocpp_id, "occurred_at": "2026-01-01T10:00:00"},
        {"event_id": "t4", "type": "charge", "ocpp_id": cp.ocpp_id, "started_at": iso(now),
         "ended_at": iso(now - timedelta(hours=1)), "energy_wh": -5},
        {"event_id": "t5", "type": "state_change", "ocpp_id": cp.ocpp_id, "occurred_at": iso(now), "state": "on fire"},
        {"event_id": "t6", "type": "heartbeat", "ocpp_id": cp.ocpp_id, "occurred_at": iso(now + timedelta(hours=1))},
        {"type": "heartbeat", "ocpp_id": cp.ocpp_id, "occurred_at": iso(now)},
        {"event_id": "ok", "type": "heartbeat", "ocpp_id": cp.ocpp_id, "occurred_at": iso(now)},
    ]

    results = telemetry_record_batch(events=events)

    assert [r.status for r in results] == ["rejected"] * 8 + ["accepted"]
    assert results[0].errors == {"event": "Must be an object."}
    assert "type" in results[1].errors
    assert set(results[2].errors) == {"occurred_at", "kind", "dbm"}
    assert "time zone" in results[3].errors["occurred_at"]
    assert set(results[4].errors) == {"ended_at", "energy_wh"}
    assert "state" in results[5].errors
    assert "future" in results[6].errors["occurred_at"]
    assert results[7].errors == {"event_id": "This field is required."} and results[7].event_id is None
    assert list(Heartbeat.objects.values_list("event_id", flat=True)) == ["ok"]
    assert not SignalReading.objects.exists() and not Charge.objects.exists() and not StateChange.objects.exists()


def test_another_teams_charge_point_is_rejected_like_an_unknown_one(member_factory):
    mine = make_charge_point()
    theirs = make_charge_point(owner=TeamFactory(), operator=TeamFactory())
    user = member_factory(mine.owner, Role.ADMIN)
    now = timezone.now()

    results = telemetry_record_batch(
        actor=user,
        events=[
            {"event_id": "a", "type": "heartbeat", "ocpp_id": theirs.ocpp_id, "occurred_at": iso(now)},
            {"event_id": "b", "type": "heartbeat", "ocpp_id": "NO-SUCH", "occurred_at": iso(now)},
            {"event_id": "c", "type": "heartbeat", "ocpp_id": mine.ocpp_id, "occurred_at": iso(now)},
        ],
    )

    assert [r.status for r in results] == ["rejected", "rejected", "accepted"]
    assert results[0].errors == results[1].errors == {"ocpp_id": "Unknown charge point."}
    assert list(Heartbeat.objects.values_list("charge_point_id", flat=True)) == [mine.pk]


def test_heartbeats_and_signals_keep_the_newest_value():
    cp = make_charge_point(last_heartbeat_at=None)
    now = timezone.now()
    events = [
        {"event_id": "h1", "type": "heartbeat", "ocpp_id": cp.ocpp_id, "occurred_at": iso(now - timedelta(minutes=1))},
        {"event_id": "h0", "type": "heartbeat", "ocpp_id": cp.ocpp_id, "occurred_at": iso(now - timedelta(minutes=9))},
        {"event_id": "w1", "type": "signal", "ocpp_id": cp.ocpp_id, "occurred_at": iso(now - timedelta(minutes=2)),
         "kind": "wifi", "dbm": -70},
        {"event_id": "w0", "type": "signal", "ocpp_id": cp.ocpp_id, "occurred_at": iso(now - timedelta(minutes=8)),
         "kind": "wifi", "dbm": -90},
        {"event_id": "c1", "type": "signal", "ocpp_id": cp.ocpp_id, "occurred_at": iso(now), "kind": "cellular",
         "dbm": -101.0},
    ]

    telemetry_record_batch(events=events)

    cp.refresh_from_db()
    assert cp.last_heartbeat_at == now - timedelta(minutes=1)
    assert (cp.wifi_signal_dbm, cp.wifi_signal_at) == (-70, now - timedelta(minutes=2))
    assert (cp.cellular_signal_dbm, cp.cellular_signal_at) == (-101, now)
    assert SignalReading.objects.count() == 3


def test_a_heartbeat_after_a_disconnect_brings_the_charge_point_back_online():
    cp = make_charge_point()
    now = timezone.now()
    telemetry_record_batch(events=[state_event(cp, "gone", now - timedelta(minutes=30), state="disconnected")])

    telemetry_record_batch(
        events=[{"event_id": "hb", "type": "heartbeat", "ocpp_id": cp.ocpp_id, "occurred_at": iso(now)}]
    )

    cp.refresh_from_db()
    assert (cp.state, cp.state_since) == (ChargePointState.UNKNOWN, now)


@pytest.mark.parametrize(
    ("energy_wh", "stop_reason", "went_to_error", "failed"),
    [(0, "Local", False, True), (12000, "EmergencyStop", False, True), (12000, "Local", True, True),
     (12000, "Local", False, False), (1, "EVDisconnected", False, False)],
)
def test_the_failed_charge_definition(energy_wh, stop_reason, went_to_error, failed):
    reason = charge_failure_reason(energy_wh=energy_wh, stop_reason=stop_reason, went_to_error=went_to_error)
    assert bool(reason) is failed


def test_a_charge_during_which_the_charge_point_went_to_error_failed_even_when_the_error_arrives_later():
    cp = make_charge_point()
    now = timezone.now()
    start, end = now - timedelta(minutes=40), now - timedelta(minutes=10)
    charge = {"event_id": "ch", "type": "charge", "ocpp_id": cp.ocpp_id, "started_at": iso(start),
              "ended_at": iso(end), "energy_wh": 9000, "stop_reason": "Local"}
    telemetry_record_batch(events=[charge])
    assert Charge.objects.get().outcome == ChargeOutcome.COMPLETED

    telemetry_record_batch(events=[state_event(cp, "err", now - timedelta(minutes=20), state="error")])

    assert Charge.objects.get().outcome == ChargeOutcome.FAILED


def test_a_thousand_events_take_a_handful_of_queries():
    cps = [make_charge_point() for _ in range(50)]
    now = timezone.now()
    events = []
    for i in range(1000):
        cp = cps[i % 50]
        at = iso(now - timedelta(seconds=i))
        kind = i % 4
        if kind == 0:
            events.append(state_event(cp, f"s{i}", now - timedelta(seconds=i), state="busy"))
        elif kind == 1:
            events.append({"event_id": f"h{i}", "type": "heartbeat", "ocpp_id": cp.ocpp_id, "occurred_at": at})
        elif kind == 2:
            events.append({"event_id": f"w{i}", "type": "signal", "ocpp_id": cp.ocpp_id, "occurred_at": at,
                           "kind": "wifi", "dbm": -60})
        else:
            events.append({"event_id": f"c{i}", "type": "charge", "ocpp_id": cp.ocpp_id, "started_at": at,
                           "ended_at": at, "energy_wh": 100})

    with CaptureQueriesContext(connection) as queries:
        results = telemetry_record_batch(events=events)

    assert {r.status for r in results} == {"accepted"}
    assert len(queries) <= 20, [q["sql"][:80] for q in queries]
    assert Heartbeat.objects.count() == SignalReading.objects.count() == StateChange.objects.count() == 250



def test_before_any_telemetry_the_first_status_applies_even_from_before_registration():
    now = timezone.now()
    cp = factories.ChargePointFactory(state=ChargePointState.UNKNOWN, state_since=now)

    telemetry_record_batch(events=[state_event(cp, "first", now - timedelta(minutes=2), state="error")])

    cp.refresh_from_db()
    assert (cp.state, cp.state_since) == ("error", now - timedelta(minutes=2))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("occurred_at", "0001-01-01T00:00:00+14:00", "out of range"),
        ("occurred_at", "1970-01-01T00:00:00Z", "too far in the past"),
        ("occurred_at", "2026-13-45T00:00:00Z", "ISO 8601"),
        ("ocpp_id", "CP\x00-1", "NUL"),
        ("event_id", "x" * 101, "at most 100"),
    ],
)
def test_hostile_values_are_rejected_not_a_database_error(field, value, message):
    cp = make_charge_point()
    event = {"event_id": "h", "type": "heartbeat", "ocpp_id": cp.ocpp_id, "occurred_at": iso(timezone.now())}

    [result] = telemetry_record_batch(events=[event | {field: value}])

    assert result.status == "rejected"
    assert message in result.errors[field]
    assert not Heartbeat.objects.exists()


def every_kind(cp, now, prefix=""):
    """One event of each type for ``cp``, ids ``<prefix>s``, ``h``, ``w``,
    ``c``, ``b``."""
    at = iso(now - timedelta(minutes=5))
    return [
        state_event(cp, f"{prefix}s", now - timedelta(minutes=5), state="busy"),
        {"event_id": f"{prefix}h", "type": "heartbeat", "ocpp_id": cp.ocpp_id, "occurred_at": at},
        {"event_id": f"{prefix}w", "type": "signal", "ocpp_id": cp.ocpp_id, "occurred_at": at, "kind": "wifi",
         "dbm": -70},
        {"event_id": f"{prefix}c", "type": "charge", "ocpp_id": cp.ocpp_id, "started_at": iso(now - timedelta(hours=1)),
         "ended_at": at, "energy_wh": 5000, "stop_reason": "Local"},
        {"event_id": f"{prefix}b", "type": "boot", "ocpp_id": cp.ocpp_id, "occurred_at": at, "vendor": "Alfen"},
    ]


def test_two_teams_may_use_the_same_event_ids_and_the_same_charge_point_sending_one_twice_is_a_duplicate():
    ours = make_charge_point()
    theirs = make_charge_point(owner=TeamFactory(), operator=TeamFactory())
    now = timezone.now()

    first = telemetry_record_batch(events=every_kind(ours, now))
    second = telemetry_record_batch(events=every_kind(theirs, now))
    again = telemetry_record_batch(events=every_kind(ours, now) + every_kind(theirs, now))

    assert [r.status for r in first] == [r.status for r in second] == ["accepted"] * 5
    assert [(r.event_id, r.status, r.errors) for r in again] == [
        (event_id, "duplicate", {}) for event_id in ["s", "h", "w", "c", "b"] * 2
    ]
    for model in (StateChange, Heartbeat, SignalReading, Charge):
        assert sorted(model.objects.values_list("charge_point_id", flat=True)) == sorted(
            [ours.pk, theirs.pk] * (2 if model is Heartbeat else 1)  # a boot is stored as a heartbeat
        ), model


def test_the_hook_hears_of_the_stored_events_only_with_their_charges_outcome():
    from chargepoints import hooks

    cp = make_charge_point()
    now = timezone.now()
    telemetry_record_batch(events=every_kind(cp, now)[:4])
    heard = []
    hooks.telemetry_recorded.append(lambda *, accepted: heard.append(accepted))
    try:
        results = telemetry_record_batch(events=every_kind(cp, now) + every_kind(cp, now, prefix="new-")
                                         + [state_event(cp, "err", now - timedelta(minutes=30), state="error")])
    finally:
        hooks.telemetry_recorded.pop()

    assert [r.status for r in results] == ["duplicate"] * 4 + ["accepted"] * 7
    [accepted] = heard
    assert {kind: sorted(c["event_id"] for c in events) for kind, events in accepted.items() if events} == {
        "state_change": ["err", "new-s"], "heartbeat": ["new-h"], "signal": ["new-w"], "charge": ["new-c"],
        "boot": ["b", "new-b"],
    }
    # The error in this batch fell in both charges: the new one is stored
    # failed, the one stored before is failed now.
    assert accepted["charge"][0]["outcome"] == ChargeOutcome.FAILED
    assert set(Charge.objects.values_list("event_id", "outcome")) == {
        ("c", ChargeOutcome.FAILED), ("new-c", ChargeOutcome.FAILED)
    }


@pytest.mark.parametrize("value", [["wifi"], {"wifi": 1}, 7, None])
def test_a_signal_kind_that_is_not_text_is_rejected_with_its_message(value):
    cp = make_charge_point()
    event = {"event_id": "w", "type": "signal", "ocpp_id": cp.ocpp_id, "occurred_at": iso(timezone.now()),
             "kind": value, "dbm": -70}

    [result] = telemetry_record_batch(events=[event])

    assert (result.status, result.errors) == ("rejected", {"kind": "Must be one of: wifi, cellular."})
    assert not SignalReading.objects.exists()
