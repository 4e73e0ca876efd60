"""Settings for `make run` on a developer's machine."""


from .base import *  # noqa: F403
from .base import SECRET_KEY, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"

# The demo shows a weak-signal report within minutes: "sustained" means 3
# minutes here (at least 3 readings, the simulator sends one every 30 s),
# not the 15 of production.
HEALTH_CHECKS = {  # noqa: F405
    **HEALTH_CHECKS,  # noqa: F405
    "bad_wifi": {**HEALTH_CHECKS["bad_wifi"], "window_minutes": env.int("HEALTH_SIGNAL_WINDOW_MINUTES", default=3)},  # noqa: F405,E501
    "bad_cell_signal": {**HEALTH_CHECKS["bad_cell_signal"],  # noqa: F405
                        "window_minutes": env.int("HEALTH_SIGNAL_WINDOW_MINUTES", default=3)},  # noqa: F405
}
