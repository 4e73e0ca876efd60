"""core/db_threads.py: pieces of database work at once, each in a thread
with a connection of its own, closed when the piece is done; results in
order; a failure raised once every piece has finished."""

import threading
import time

import pytest
from django.db import connections

from core.db_threads import run_in_threads
from tests.factories import TeamFactory


def test_each_call_runs_in_a_thread_of_its_own_and_the_results_keep_their_order():
    def piece(number):
        time.sleep(0.01 * (3 - number))  # the last to start finishes first
        return number, threading.current_thread().name

    results = run_in_threads([lambda n=n: piece(n) for n in range(3)], name="piece")

    assert [number for number, _thread in results] == [0, 1, 2]
    assert len({thread for _number, thread in results}) == 3
    assert all(thread.startswith("piece") for _number, thread in results)


def test_one_call_runs_in_the_callers_thread():
    assert run_in_threads([lambda: threading.current_thread().name]) == [threading.current_thread().name]


def test_a_failure_is_raised_after_every_other_piece_finished():
    finished = []

    def slow():
        time.sleep(0.05)
        finished.append("slow")

    def failing():
        raise ValueError("part two failed")

    with pytest.raises(ValueError, match="part two failed"):
        run_in_threads([slow, failing])

    assert finished == ["slow"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_each_piece_has_its_own_connection_and_closes_it(require_postgres):
    TeamFactory(name="Seen by every connection")
    used = []

    def piece():
        from accounts.models import Team

        used.append(connections["default"])
        return Team.objects.filter(name="Seen by every connection").count()

    assert run_in_threads([piece, piece]) == [1, 1]
    assert len({id(c) for c in used}) == 2 and connections["default"] not in used
    assert all(c.connection is None for c in used)
