"""core/mail.py: `make run` prints one line per e-mail; the development
settings use it unless EMAIL_URL or EMAIL_BACKEND says otherwise."""

import io

import pytest
from django.core.mail import EmailMultiAlternatives

from core.mail import OneLineConsoleBackend
from tests.config.conftest import clean_env, run_python


def test_each_email_is_one_line_naming_its_recipients_and_subject():
    stream = io.StringIO()
    message = EmailMultiAlternatives("Ny rapport #7: Ude af drift", "Åbn rapporten: http://x/7/",
                                     "reports@example.com", ["nanna@nordlys.example", "ops@nordlys.example"])
    message.attach_alternative("<p>Åbn rapporten</p>", "text/html")

    sent = OneLineConsoleBackend(stream=stream).send_messages([message])

    assert sent == 1
    assert stream.getvalue() == "E-mail to nanna@nordlys.example, ops@nordlys.example: Ny rapport #7: Ude af drift\n"


@pytest.mark.parametrize("extra, backend", [
    ({}, "core.mail.OneLineConsoleBackend"),
    ({"EMAIL_URL": "smtp://127.0.0.1:1025"}, "django.core.mail.backends.smtp.EmailBackend"),
    ({"EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend"}, "anymail.backends.postmark.EmailBackend"),
])
def test_the_development_settings_print_one_line_unless_told_where_to_send(tmp_path, extra, backend):
    env = clean_env(DJANGO_SETTINGS_MODULE="config.settings.local", VAR_DIR=str(tmp_path), **extra)
    result = run_python("import django; django.setup(); from django.conf import settings; print(settings.EMAIL_BACKEND)",
                        env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == backend
