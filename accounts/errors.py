"""Refusals raised by the services of every app. Each carries a message a
person can read and the HTTP status the API answers with; the admin shows
the message, the API returns it in its error format. Nothing was written
when one is raised."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None, **extra) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        self.extra = extra


class Invalid(ServiceError):
    """The input breaks a rule (400)."""


class NotAllowed(ServiceError):
    """The actor may not do this (403)."""

    status = 403
    code = "permission_denied"


class Conflict(ServiceError):
    """The records as they are now forbid it (409), e.g. history refers to
    the object, or another open report exists."""

    status = 409
    code = "conflict"
