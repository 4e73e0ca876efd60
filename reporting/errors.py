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
    status_code = 403
    code = "permission_denied"

    def __init__(self, *, action: str) -> None:
        super().__init__(f"You are not allowed to {action} this report.")
        self.action = action


class OpenReportExists(ReportError):
    """A system report cannot be reopened while the health checks have filed
    a newer one for the same charge point and reason: there is at most one
    unresolved system report per charge point and reason."""

    status_code = 409
    code = "open_report_exists"

    def __init__(self, *, action: str, open_report_id: int) -> None:
        super().__init__(
            f"Cannot {action} this report: report #{open_report_id} is already open for the same charge point "
            "and reason. Work on that one instead."
        )
        self.action = action
        self.open_report_id = open_report_id

    def extra(self) -> dict:
        return {"action": self.action, "open_report": self.open_report_id}
