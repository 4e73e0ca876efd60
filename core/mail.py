"""An e-mail backend for a developer's machine (`make run`): one line per
e-mail on the console, instead of Django's console backend's whole MIME
message, so that the worker's output stays readable and `make run`'s
welcome does not scroll away. The e-mails themselves are read in the
outbox's pages (the inbox), which keep every one with its text."""

from django.core.mail.backends.console import EmailBackend as ConsoleBackend


class OneLineConsoleBackend(ConsoleBackend):
    def write_message(self, message):
        recipients = ", ".join(message.recipients())
        self.stream.write(f"E-mail to {recipients}: {message.subject}\n")
