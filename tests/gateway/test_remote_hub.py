"""gateway.remote.CommandHub's bookkeeping of connections between polls:
what a failed poll (the database away) leaves for the next one."""

import asyncio
from types import SimpleNamespace

import pytest
from django.db import OperationalError

from gateway.remote import CommandHub


class FlakyGateway:
    config = SimpleNamespace(command_poll_interval=1)

    def __init__(self):
        self.down = True
        self.polls = []

    async def db(self, fn, **kwargs):
        self.polls.append(kwargs)
        if self.down:
            raise OperationalError("the database is away")
        return []


def session(cp_id):
    return SimpleNamespace(charge_point_id=cp_id)


def poll(hub):
    async def run():
        try:
            await hub.poll()
        except OperationalError:
            return False
        return True
    return asyncio.run(run())


@pytest.fixture
def hub():
    h = CommandHub(FlakyGateway())
    h.process_id = 7
    return h


def test_a_close_after_a_failed_poll_wins_over_the_open_it_kept(hub):
    first = session(1)
    hub.connected(first)
    assert poll(hub) is False
    hub.disconnected(first)
    hub.gateway.down = False
    assert poll(hub) is True
    assert (hub.gateway.polls[-1]["opened"], hub.gateway.polls[-1]["closed"]) == ({}, {1})


def test_a_reconnect_after_a_failed_poll_is_written_as_open(hub):
    old, new = session(2), session(2)
    hub.connected(old)
    hub.disconnected(old)
    assert poll(hub) is False
    hub.connected(new)
    hub.gateway.down = False
    assert poll(hub) is True
    assert set(hub.gateway.polls[-1]["opened"]) == {2}
    assert hub.gateway.polls[-1]["closed"] == set()


def test_a_replaced_session_closing_does_not_close_its_successor(hub):
    old, new = session(3), session(3)
    hub.connected(old)
    hub.connected(new)  # the new connection took over
    hub.disconnected(old)
    hub.gateway.down = False
    poll(hub)
    assert set(hub.gateway.polls[-1]["opened"]) == {3}
    assert hub.gateway.polls[-1]["closed"] == set()
