"""notifications/tasks.py and the beat schedule seeded by its migration."""

import pytest
from django.core import mail
from django_celery_beat.models import PeriodicTask

from config.celery import app
from notifications import tasks
from notifications.models import Notification, NotificationStatus
from reporting import services as reporting
from reporting.catalogue import Reason, Source

pytestmark = pytest.mark.django_db


def test_the_sweep_is_scheduled_every_minute_under_a_registered_task_name():
    periodic = PeriodicTask.objects.get(task="notifications.send_due")

    assert periodic.enabled
    assert (periodic.interval.every, periodic.interval.period) == (1, "minutes")
    assert periodic.task in app.tasks  # a typo here would make beat send a task no worker knows


def test_the_sweep_task_sends_rows_whose_task_was_lost(fleet, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the broker lost the task
        reporting.report_create(charge_point=fleet.charge_point, source=Source.USER, reason=Reason.BROKEN)

    result = tasks.notifications_send_due.delay().get()

    assert result == {NotificationStatus.SENT: 2}
    assert len(mail.outbox) == 2
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.SENT}
