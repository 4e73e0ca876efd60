"""The base of every domain error. A service raises one when it refuses an
action; nothing has been written then. Each error knows the HTTP status and
the stable code the API answers with, so the REST error handler in
``core/rest/errors.py`` needs no knowledge of any app."""

from __future__ import annotations


class DomainError(Exception):
    """The action was refused and nothing was written."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def extra(self) -> dict:
        """Further keys of the API's error body (``state``, ``action``, ...)."""
        if self.status_code == 400:
            return {"fields": {self.field or "non_field_errors": [self.message]}}
        return {}
