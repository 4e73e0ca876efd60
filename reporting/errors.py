"""Domain errors raised by the reporting services. Each carries a message a
person can read; the admin shows it, the API returns it."""

from __future__ import annotations

from core.errors import DomainError


class ReportError(DomainError):
    """Base class: the action was refused and nothing was written."""


class TransitionNotAllowed(ReportError):
    status_code = 409
    code = "transition_not_allowed"

    def __init__(self, *, action: str, state: str) -> None:
        super().__init__(f"Cannot {action} a report that is {state}.")
        self.action = action
        self.state = state

    def extra(self) -> dict:
        return {"state": self.state, "action": self.action}


class ReportChanged(ReportError):
    """Somebody else changed the report since it was read."""

    status_code = 409
    code = "report_changed"

    def __init__(self, *, action: str) -> None:
        super().__init__(
            f"Cannot {action} this report: it was changed by someone else in the meantime. "
            "Reload it and try again."
        )
        self.action = action

    def extra(self) -> dict:
        return {"action": self.action}


class InvalidReport(ReportError):
    """The report's fields break a rule (reason, source, country, party)."""


class NotPermitted(ReportError):
    status_code = 403
    code = "permission_denied"

    def __init__(self, *, action: str) -> None:
        super().__init__(f"You are not allowed to {action} this report.")
        self.action = action
