"""Domain errors raised by the reporting services. Each carries a message a
person can read; the admin shows it, the API returns it."""

from __future__ import annotations


class ReportError(Exception):
    """Base class: the action was refused and nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransitionNotAllowed(ReportError):
    def __init__(self, *, action: str, state: str) -> None:
        super().__init__(f"Cannot {action} a report that is {state}.")
        self.action = action
        self.state = state


class ReportChanged(ReportError):
    """Somebody else changed the report since it was read."""

    def __init__(self, *, action: str) -> None:
        super().__init__(
            f"Cannot {action} this report: it was changed by someone else in the meantime. "
            "Reload it and try again."
        )
        self.action = action


class InvalidReport(ReportError):
    """The report's fields break a rule (reason, source, country, party)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PersonNotInParty(InvalidReport):
    """A report names a person who cannot take it for that party. Says the
    same whoever the person is (or whether they exist), so it tells nobody
    who else has an account."""

    def __init__(self, *, party: str) -> None:
        who = "support staff" if party == "support" else f"a member of the {party} team of this charge point"
        super().__init__(
            f"That person cannot take this report for the {party}: name {who} who can act on reports.",
            field="person",
        )
        self.party = party


class NotPermitted(ReportError):
    def __init__(self, *, action: str) -> None:
        super().__init__(f"You are not allowed to {action} this report.")
        self.action = action
