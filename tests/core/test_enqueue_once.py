"""core/tasks.py: a task queued several times in one transaction (a sweep
writing timeline rows check after check) is published once on commit."""

import pytest
from django.db import transaction

from core.tasks import enqueue_on_commit

pytestmark = pytest.mark.django_db


def names(queued):
    return [(callback.task_name, callback.task_key[1]) for callback in queued]


def test_the_same_task_queued_twice_in_a_transaction_is_sent_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        enqueue_on_commit("notifications.process_events")
        enqueue_on_commit("notifications.process_events")
        enqueue_on_commit("notifications.send", [1])
        enqueue_on_commit("notifications.send", [2])
        enqueue_on_commit("notifications.send", [1])

    assert names(queued) == [("notifications.process_events", ()), ("notifications.send", ([1],)),
                             ("notifications.send", ([2],))]


def test_a_rolled_back_savepoint_does_not_lose_the_task_queued_after_it(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        try:
            with transaction.atomic():
                enqueue_on_commit("notifications.process_events")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        enqueue_on_commit("notifications.process_events")

    assert names(queued) == [("notifications.process_events", ())]


def test_a_task_queued_in_a_savepoint_covers_a_later_one_only_while_it_stands(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        with transaction.atomic():
            enqueue_on_commit("notifications.process_events")
        with transaction.atomic():
            enqueue_on_commit("notifications.process_events")  # the released savepoint's still waits

    assert names(queued) == [("notifications.process_events", ())]
