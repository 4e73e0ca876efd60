"""The ASGI application, for an ASGI server (e.g. uvicorn config.asgi:application)."""

from django.core.asgi import get_asgi_application

from config.environment import use_default_settings

use_default_settings()

application = get_asgi_application()
