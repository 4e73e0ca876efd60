"""A task for tests/config/test_celery.py's real worker (loaded with
`celery worker --include`): it sleeps past its time limits."""

import time
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded


@shared_task(name="tests.sleep_past_limits")
def sleep_past_limits(marker_dir: str, name: str, ignore_soft_limit: bool) -> None:
    markers = Path(marker_dir)
    (markers / f"{name}.started").touch()
    try:
        time.sleep(60)
    except SoftTimeLimitExceeded:
        (markers / f"{name}.soft").touch()
        if ignore_soft_limit:
            time.sleep(60)  # the hard limit must kill the process here
            (markers / f"{name}.survived").touch()
        raise
