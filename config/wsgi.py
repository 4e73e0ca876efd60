"""The WSGI application gunicorn serves (Procfile.production)."""

from django.core.wsgi import get_wsgi_application

from config.environment import use_default_settings

use_default_settings()

application = get_wsgi_application()
