from celery import Celery

from config.environment import use_default_settings

use_default_settings()

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
