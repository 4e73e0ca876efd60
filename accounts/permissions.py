"""Who may do what. The one place that answers "which teams may this actor
see, and what may it do there", shared by the admin, the API and the services.

An *actor* is a logged-in user or an API key. Both expose ``is_support`` and
``roles_by_team()``; ``None`` is the system itself (health checks).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from accounts.roles import Role


class Actor(Protocol):
    @property
    def is_support(self) -> bool: ...

    def roles_by_team(self) -> dict[int, Role]: ...


class Capability(StrEnum):
    VIEW = "view"
    COMMENT = "comment"
    RESOLVE = "resolve"  # resolve and reopen
    ASSIGN = "assign"
    EDIT_ASSETS = "edit_assets"  # charge points, sites, report settings, API keys
    MANAGE_MEMBERS = "manage_members"
    VIEW_AUDIT = "view_audit"  # the team's audit log
    # Drivers' names, e-mail addresses and phone numbers on the team's open
    # reports (reporting/contact_visibility.py has the whole rule).
    VIEW_DRIVER_CONTACT = "view_driver_contact"
    REMOTE_COMMAND = "remote_command"  # reset, trigger, availability, unlock a connected charger


# The least role that holds each capability.
MINIMUM_ROLE: dict[Capability, Role] = {
    Capability.VIEW: Role.VIEWER,
    Capability.COMMENT: Role.INSTALLER,
    Capability.RESOLVE: Role.INSTALLER,
    Capability.ASSIGN: Role.ADMIN,
    Capability.EDIT_ASSETS: Role.ADMIN,
    Capability.MANAGE_MEMBERS: Role.OWNER,
    Capability.VIEW_AUDIT: Role.ADMIN,
    Capability.VIEW_DRIVER_CONTACT: Role.INSTALLER,
    Capability.REMOTE_COMMAND: Role.INSTALLER,
}


def role_allows(role: Role | str | None, capability: Capability) -> bool:
    if role is None:
        return False
    return Role(role).rank >= MINIMUM_ROLE[capability].rank


def is_support(actor: Actor | None) -> bool:
    return bool(getattr(actor, "is_support", False))


def visible_team_ids(actor: Actor | None) -> list[int] | None:
    """Ids of the teams whose data the actor may see; ``None`` means all."""
    if actor is None or is_support(actor):
        return None
    roles_by_team = getattr(actor, "roles_by_team", None)
    if roles_by_team is None:  # anonymous
        return []
    return list(roles_by_team())


def teams_with_capability(actor: Actor | None, capability: Capability) -> list[int] | None:
    """Ids of the teams where the actor holds the capability; ``None`` means all."""
    if actor is None or is_support(actor):
        return None
    roles_by_team = getattr(actor, "roles_by_team", None)
    if roles_by_team is None:
        return []
    return [team_id for team_id, role in roles_by_team().items() if role_allows(role, capability)]


def best_role(actor: Actor | None, team_ids: list[int]) -> Role | None:
    """The actor's strongest role over the given teams."""
    roles_by_team = getattr(actor, "roles_by_team", None)
    if roles_by_team is None:
        return None
    roles = [role for team_id, role in roles_by_team().items() if team_id in team_ids]
    return max(roles, key=lambda r: Role(r).rank, default=None)


def can_on_team(actor: Actor | None, capability: Capability, *, team_id: int) -> bool:
    if actor is None or is_support(actor):
        return True
    return role_allows(best_role(actor, [team_id]), capability)


def can_on_charge_point(actor: Actor | None, capability: Capability, *, charge_point) -> bool:
    """A member's role counts on a charge point its team owns or operates."""
    if actor is None or is_support(actor):
        return True
    if charge_point is None:  # a support conversation not yet linked: support's alone
        return False
    role = best_role(actor, [charge_point.owner_id, charge_point.operator_id])
    return role_allows(role, capability)


def person_label(person, *, for_support: bool) -> str:
    """How a person is named on reports. Support staff see the usual label
    (the name, or the e-mail address of someone without one); everyone else
    sees the name only, never an address: the people a report names are
    often another team's (the owner's, the operator's) or support staff."""
    if person is None:
        return ""
    if for_support:
        return person.actor_label
    return person.get_full_name() or f"User #{person.pk}"
