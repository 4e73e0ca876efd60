"""Running jobs at the same moment in threads, each with its own database
connection: on PostgreSQL they really run in parallel, which is what the
concurrency tests need to show that claims, locks and conditional updates
hold (use with ``django_db(transaction=True)`` and ``require_postgres``)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_at_once(*jobs: Callable[[], object], timeout: float = 120) -> None:
    """Start every job in a thread of its own, let them go together (a
    barrier), and wait for all of them. An exception in a job fails the test
    here, since a thread's own would be lost; so does a job still running
    after ``timeout`` seconds."""
    barrier = threading.Barrier(len(jobs))
    errors = []

    def worker(job):
        try:
            barrier.wait()
            job()
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()  # the thread's own connection

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert errors == []
    assert not [thread for thread in threads if thread.is_alive()], f"a job ran longer than {timeout} s"
