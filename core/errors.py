"""The refusals every service raises. Each carries a message a person can
read, the HTTP status and the stable code the API answers with; the admin
shows the message, the API returns it in its error format
(``core/rest/errors.py``, which therefore needs no knowledge of any app).
Nothing was written when one is raised."""

from __future__ import annotations


class DomainError(Exception):
    """The action was refused and nothing was written."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None, **details) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        self.details = details

    @property
    def status(self) -> int:
        return self.status_code

    def extra(self) -> dict:
        """Further keys of the API's error body (``fields``, ``state``, ...)."""
        body = dict(self.details)
        if self.status_code == 400:
            body["fields"] = {self.field or "non_field_errors": [self.message]}
        return body


class Invalid(DomainError):
    """The input breaks a rule (400)."""


class NotAllowed(DomainError):
    """The actor may not do this (403)."""

    status_code = 403
    code = "permission_denied"


class Conflict(DomainError):
    """The records as they are now forbid it (409), e.g. history refers to
    the object, or another open report exists."""

    status_code = 409
    code = "conflict"
