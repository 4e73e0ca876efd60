"""Writes on teams, memberships and people. Each takes ``by`` (the actor),
checks the capability itself and writes one audit row in the same
transaction.

Memberships lock the team's membership rows (``select_for_update``) before
they read them, so two owners removing each other at once cannot leave a
team without an owner: the second waits, then sees the first's change.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.dispatch import Signal

from accounts.audit import audit_diff, audit_record, audit_snapshot
from accounts.models import AuditAction, Membership, Role, Team, User
from accounts.permissions import Capability, can_on_team, is_support, role_allows
from accounts.services import _revoke_keys
from core.errors import Conflict, Invalid, NotAllowed

# Sent inside team_create's transaction, so the apps above accounts (the
# reporting settings) create their per-team rows with the team; sent by the
# service only, never by a model save.
team_created = Signal()

TEAM_FIELDS = ("name", "country", "language")
RATE_FIELDS = ("api_reads_per_minute", "api_writes_per_minute", "api_telemetry_per_minute")
USER_FIELDS = ("email", "first_name", "last_name", "phone", "is_active", "is_staff", "is_superuser")


# --- Teams -------------------------------------------------------------------------


def _require_support(by, action: str) -> None:
    if not is_support(by):
        raise NotAllowed(f"Only support staff may {action}.")


@transaction.atomic
def team_create(*, name: str, country: str, language: str = Team.Language.ENGLISH, by) -> Team:
    """A new team, with the per-team rows other apps keep (report settings).
    Support only; ``by=None`` is the system (seed data, tests)."""
    if by is not None:
        _require_support(by, "create teams")
    name = (name or "").strip()
    if not name:
        raise Invalid("A team needs a name.", field="name")
    if Team.objects.filter(name__iexact=name).exists():
        raise Invalid(f"There is already a team called {name}.", field="name")
    team = Team.objects.create(name=name, country=country, language=language)
    team_created.send(sender=Team, team=team, by=by)
    audit_record(by=by, action=AuditAction.CREATE, obj=team, team=team,
                 changes=audit_diff({}, audit_snapshot(team, TEAM_FIELDS)))
    return team


@transaction.atomic
def team_update(*, team: Team, by, **changes) -> Team:
    """Rename a team or change its language (its owners, or support); the
    country decides which report reasons apply: support only."""
    fields = TEAM_FIELDS + RATE_FIELDS
    unknown = set(changes) - set(fields)
    if unknown:
        raise Invalid(f"Cannot change {', '.join(sorted(unknown))} of a team.")
    for name in RATE_FIELDS:
        value = changes.get(name)
        if value is not None and not (1 <= int(value) <= 1_000_000):
            raise Invalid("A rate limit is from 1 to 1,000,000 calls a minute, or empty for the default.",
                          field=name)
    team = Team.objects.select_for_update().get(pk=team.pk)
    before = audit_snapshot(team, fields)
    for name, value in changes.items():
        setattr(team, name, value)
    diff = audit_diff(before, audit_snapshot(team, fields))
    if not diff:
        return team
    if not can_on_team(by, Capability.MANAGE_MEMBERS, team_id=team.pk):
        raise NotAllowed(f"Only the owners of {team} or support may change it.")
    if "country" in diff and not is_support(by):
        raise NotAllowed("Only support may change a team's country.", field="country")
    changed_rates = sorted(set(diff) & set(RATE_FIELDS))
    if changed_rates and not is_support(by):
        raise NotAllowed("Only support may change a team's API rate limits.", field=changed_rates[0])
    team.save(update_fields=list(diff))
    audit_record(by=by, action=AuditAction.UPDATE, obj=team, team=team, changes=diff)
    return team


@transaction.atomic
def team_delete(*, team: Team, by) -> None:
    """Support only, and only a team that holds no charge points or sites:
    their history would go with it."""
    _require_support(by, "delete teams")
    from django.db.models import ProtectedError

    record = audit_snapshot(team, TEAM_FIELDS)
    label = str(team)
    try:
        with transaction.atomic():
            audit_record(by=by, action=AuditAction.DELETE, obj=team, team=None,
                         changes=audit_diff(record, {}), note=f"Team {label} deleted.")
            team.delete()
    except ProtectedError:
        raise Conflict(f"{label} still has sites or charge points; move or delete them first.",
                       code="protected") from None


# --- Memberships -------------------------------------------------------------------


def _lock_memberships(team_id: int) -> dict[int, Membership]:
    """Lock every membership row of the team; user id -> membership."""
    rows = Membership.objects.select_for_update().filter(team_id=team_id).order_by("pk")
    return {m.user_id: m for m in rows}


def _require_manager(by, team_id: int, locked: dict[int, Membership] | None = None) -> None:
    """Owners manage their team's people. Read from the locked rows when
    given: the actor's own membership may have changed a moment ago."""
    if is_support(by):
        return
    if locked is not None and isinstance(by, User):
        mine = locked.get(by.pk)
        if mine is not None and role_allows(mine.role, Capability.MANAGE_MEMBERS):
            return
    elif can_on_team(by, Capability.MANAGE_MEMBERS, team_id=team_id):
        return
    raise NotAllowed("Only the team's owners or support may manage its members.")


def _owners_left(locked: dict[int, Membership], *, without: Membership) -> int:
    return sum(1 for m in locked.values() if m.role == Role.OWNER and m.pk != without.pk)


def membership_find_user(*, email: str) -> User:
    """The active account with this e-mail address; the admin's add form
    calls it to show the error on the field."""
    email = (email or "").strip().lower()
    user = User.objects.filter(email__iexact=email, is_active=True).first() if email else None
    if user is None:
        raise Invalid("There is no active account with this e-mail address; ask support to create one first.",
                      field="email")
    return user


@transaction.atomic
def membership_add(*, team: Team, role: str, by, user: User | None = None, email: str = "") -> Membership:
    """Add a person (by account, or by the e-mail address they log in with)."""
    if role not in Role.values:
        raise Invalid(f"Unknown role '{role}'.", field="role")
    locked = _lock_memberships(team.pk)
    _require_manager(by, team.pk, locked)
    if user is None:
        user = membership_find_user(email=email)
    if user.pk in locked:
        raise Invalid(f"{user.email} is already a member of {team}.", field="email")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, team=team, role=role)
    except IntegrityError:  # added a moment ago by someone else
        raise Invalid(f"{user.email} is already a member of {team}.", field="email") from None
    audit_record(by=by, action=AuditAction.CREATE, obj=membership, team=team,
                 changes={"user": {"before": None, "after": user.email}, "role": {"before": None, "after": role}})
    return membership


def membership_check_new(*, team: Team, user: User) -> None:
    """No one is a member of a team twice (the add form shows it on the field)."""
    if Membership.objects.filter(team=team, user=user).exists():
        raise Invalid(f"{user.email} is already a member of {team}.", field="email")


def membership_check_role(*, membership: Membership, role: str, owners_left: int | None = None) -> None:
    """A team always keeps an owner. ``owners_left`` (the other owners) is
    counted from the locked rows by the service; the form counts it itself."""
    if membership.role != Role.OWNER or role == Role.OWNER:
        return
    if owners_left is None:
        owners_left = Membership.objects.filter(team_id=membership.team_id, role=Role.OWNER).exclude(
            pk=membership.pk).count()
    if owners_left == 0:
        raise Invalid("A team needs an owner: make someone else owner first.", field="role")


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, by) -> Membership:
    if role not in Role.values:
        raise Invalid(f"Unknown role '{role}'.", field="role")
    locked = _lock_memberships(membership.team_id)
    _require_manager(by, membership.team_id, locked)
    current = next((m for m in locked.values() if m.pk == membership.pk), None)
    if current is None:
        raise Conflict("This person is no longer a member of the team.", code="gone")
    if current.role == role:
        return current
    membership_check_role(membership=current, role=role, owners_left=_owners_left(locked, without=current))
    before = current.role
    current.role = role
    current.save(update_fields=["role"])
    audit_record(by=by, action=AuditAction.UPDATE, obj=current, team=current.team_id,
                 changes={"role": {"before": before, "after": role}})
    return current


def membership_may_remove(*, membership: Membership) -> bool:
    """Whether removing this membership would leave the team with an owner
    (read without a lock: for showing or hiding the delete button)."""
    if membership.role != Role.OWNER:
        return True
    return Membership.objects.filter(team_id=membership.team_id, role=Role.OWNER).exclude(pk=membership.pk).exists()


@transaction.atomic
def membership_remove(*, membership: Membership, by) -> None:
    """Remove a person from a team, and revoke the API keys they made for it:
    a key never does more than its creator may do now."""
    locked = _lock_memberships(membership.team_id)
    _require_manager(by, membership.team_id, locked)
    current = next((m for m in locked.values() if m.pk == membership.pk), None)
    if current is None:
        return  # removed a moment ago
    if current.role == Role.OWNER and _owners_left(locked, without=current) == 0:
        raise Conflict("A team needs an owner: make someone else owner before removing this one.",
                       code="last_owner")
    user = current.user
    audit_record(by=by, action=AuditAction.DELETE, obj=current, team=current.team_id,
                 changes={"user": {"before": user.email, "after": None},
                          "role": {"before": current.role, "after": None}})
    current.delete()
    from accounts.models import ApiKey

    _revoke_keys(ApiKey.objects.filter(team_id=membership.team_id, created_by=user), by=by,
                 note=f"{user.email} was removed from the team.")


# --- People (support) ----------------------------------------------------------------


@transaction.atomic
def user_save(*, user: User, by, created: bool, changed: list[str] | None = None, groups=None) -> User:
    """Save a person's account as support's form left it (support only),
    with its groups when given (the Support group makes support staff).
    The password is never recorded, only that it changed."""
    _require_support(by, "manage accounts")
    old_groups = [] if created else sorted(user.groups.values_list("name", flat=True))
    before = {} if created else audit_snapshot(User.objects.get(pk=user.pk), USER_FIELDS)
    user.save()
    diff = audit_diff(before, audit_snapshot(user, USER_FIELDS))
    if groups is not None:
        user.groups.set(groups)
        new_groups = sorted(g.name for g in groups)
        if new_groups != old_groups:
            diff["groups"] = {"before": old_groups, "after": new_groups}
    changed = [name for name in (changed or []) if name != "groups"]
    extra = [name for name in (changed or []) if name not in USER_FIELDS]
    for name in extra:
        diff[name] = {"before": "…", "after": "(changed)"}
    audit_record(by=by, action=AuditAction.CREATE if created else AuditAction.UPDATE, obj=user, team=None,
                 changes=diff)
    return user
