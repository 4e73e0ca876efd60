"""Run a few independent pieces of database work at once, each in a thread
of its own with its own database connection (Django's connections belong
to a thread): one piece of work split this way uses several of the
database server's cores instead of one.

Each piece runs in its own transaction (when it opens one) and commits on
its own: only for work that is correct whatever the others do, and that a
caller may simply run again after a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def _own_connection(call: Callable[[], T]) -> T:
    try:
        return call()
    finally:
        # The thread's own connections: nothing else will close them.
        connections.close_all()


def run_in_threads(calls: list[Callable[[], T]], *, name: str = "db-part") -> list[T]:
    """Every call at once, one thread each; their results in order. Waits
    for all of them, then raises the first failure (in the calls' order)."""
    if len(calls) == 1:
        return [calls[0]()]
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix=name) as pool:
        futures = [pool.submit(_own_connection, call) for call in calls]
    return [future.result() for future in futures]
