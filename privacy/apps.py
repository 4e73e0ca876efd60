from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Personal data"

    def ready(self) -> None:
        # Register the tasks in every process (see notifications.apps).
        from . import tasks  # noqa: F401
