"""Run a few independent pieces of database work at once, each in a thread
of its own with its own database connection (Django's connections belong
to a thread): one piece of work split this way uses several of the
database server's cores instead of one.

Each piece runs in its own transaction (when it opens one) and commits on
its own: only for work that is correct whatever the others do, and that a
caller may simply run again after a failure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def run_in_threads(calls: list[Callable[[], T]], *, name: str = "db-part") -> list[T]:
    """Every call at once, each in a thread of its own (named ``name-<n>``);
    their results in order. Waits for all of them, then raises the first
    failure (in the calls' order). One call runs in the caller's thread."""
    if len(calls) == 1:
        return [calls[0]()]
    results: list = [None] * len(calls)
    failures: list[BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as failure:  # handed to the caller below
            failures[index] = failure
        finally:
            # The thread's own connections: nothing else will close them.
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,), name=f"{name}-{index}") for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for failure in failures:
        if failure is not None:
            raise failure
    return results
