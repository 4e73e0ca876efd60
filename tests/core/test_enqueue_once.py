"""core/tasks.py: within ``enqueue_coalesced()`` (a sweep writing timeline
rows check after check) a task queued several times in one transaction is
published once on commit; outside it, every call queues its own."""

import pytest
from django.db import transaction

from core.tasks import enqueue_coalesced, enqueue_on_commit

pytestmark = pytest.mark.django_db


def names(queued):
    return [(callback.task_name, callback.task_key[1]) for callback in queued]


def test_the_same_task_queued_twice_in_a_block_is_sent_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued, enqueue_coalesced():
        enqueue_on_commit("notifications.process_events")
        enqueue_on_commit("notifications.process_events")
        enqueue_on_commit("notifications.send", [1])
        enqueue_on_commit("notifications.send", [2])
        with enqueue_coalesced():  # joins the outer block
            enqueue_on_commit("notifications.send", [1])

    assert names(queued) == [("notifications.process_events", ()), ("notifications.send", ([1],)),
                             ("notifications.send", ([2],))]


def test_outside_a_block_every_call_queues_its_own(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        enqueue_on_commit("notifications.process_events")
        with enqueue_coalesced():
            enqueue_on_commit("notifications.process_events")  # the earlier one is not the block's
        enqueue_on_commit("notifications.process_events")

    assert names(queued) == [("notifications.process_events", ())] * 3


def test_a_rolled_back_savepoint_does_not_lose_the_task_queued_after_it(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued, enqueue_coalesced():
        try:
            with transaction.atomic():
                enqueue_on_commit("notifications.process_events")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        enqueue_on_commit("notifications.process_events")

    assert names(queued) == [("notifications.process_events", ())]


def test_a_task_queued_in_a_released_savepoint_stands_for_a_later_one(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued, enqueue_coalesced():
        with transaction.atomic():
            enqueue_on_commit("notifications.process_events")
        with transaction.atomic():
            enqueue_on_commit("notifications.process_events")

    assert names(queued) == [("notifications.process_events", ())]


def test_a_task_already_sent_does_not_stand_for_a_later_one(django_capture_on_commit_callbacks):
    with enqueue_coalesced():
        with django_capture_on_commit_callbacks(execute=True) as first:
            enqueue_on_commit("notifications.process_events")
        with django_capture_on_commit_callbacks(execute=False) as second:
            enqueue_on_commit("notifications.process_events")

    assert names(first) == names(second) == [("notifications.process_events", ())]
