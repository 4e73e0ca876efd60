"""Writes on accounts: API keys (here), teams, memberships and people
(``accounts/team_services.py``). Every write checks the actor's capability
itself and writes its audit row in the same transaction.

A raw key looks like ``cpr_<prefix>_<secret>``. The prefix is public (shown in
lists, used to find the row); the secret never touches the database, only the
SHA-256 of the whole key does. The secret has 256 bits of entropy, so a plain
fast hash is enough: there is nothing to brute-force the way there is with a
password.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import SUPPORT_GROUP, ApiKey, ApiKeyScope, AuditAction, Membership, Role, Team, User
from accounts.permissions import Capability, can_on_team, is_support
from core.errors import Invalid

KEY_SCHEME = "cpr"
# last_used_at is advisory; writing it on every request of a busy integrator
# would turn every read into a write. Once a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyError(Invalid):
    """The key action was refused; nothing was written."""


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_may_manage(*, actor, team: Team) -> bool:
    """Support manages every team's keys; a team's admins and owners theirs.
    Platform keys (no team) are support's alone."""
    if team is None:
        return is_support(actor)
    return actor is not None and can_on_team(actor, Capability.EDIT_ASSETS, team_id=team.pk)


def api_key_validate(*, team: Team, name: str, role: str, by: User) -> None:
    """Raise ApiKeyError unless ``by`` may create such a key. The admin forms
    call it to show the error on the field; api_key_create calls it again."""
    if not api_key_may_manage(actor=by, team=team):
        raise ApiKeyError(f"You are not allowed to create API keys for {team}.", field="team")
    if not (name or "").strip():
        raise ApiKeyError("Give the key a name that says what uses it.", field="name")
    if role not in Role.values:
        raise ApiKeyError(f"Unknown role '{role}'.", field="role")
    if not is_support(by):
        # A key cannot hold more power than the person who made it.
        own_role = by.roles_by_team().get(team.pk)
        if own_role is None or Role(role).rank > Role(own_role).rank:
            raise ApiKeyError(
                f"You cannot create a key with the role {Role(role).label}: it is above your own.",
                field="role",
            )


def api_key_create(
    *, team: Team, name: str, role: str, by: User, scopes: list[str] | tuple[str, ...] = ()
) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw key, which is never stored:
    show it to the person once. ``scopes``: ApiKeyScope values the key holds
    beyond its role (drivers' contact details)."""
    api_key_validate(team=team, name=name, role=role, by=by)
    unknown = sorted(set(scopes) - set(ApiKeyScope.values))
    if unknown:
        raise ApiKeyError(f"Unknown scope '{unknown[0]}'.", field="scopes")
    return _api_key_insert(team=team, name=name.strip(), role=role, by=by, scopes=sorted(set(scopes)))


def api_key_create_platform(*, name: str, by: User) -> tuple[ApiKey, str]:
    """Support creates a platform key (the drivers' app): bound to no team,
    it may only file user reports for drivers and read back those reports
    (see drivers.api). Returns the key and the raw key, shown once."""
    if not is_support(by):
        raise ApiKeyError("Only support may create platform keys.")
    if not (name or "").strip():
        raise ApiKeyError("Give the key a name that says what uses it.", field="name")
    return _api_key_insert(team=None, name=name.strip(), role=Role.VIEWER, by=by, is_platform=True)


def _api_key_insert(*, team: Team | None, name: str, role: str, by: User, is_platform: bool = False,
                    scopes: list[str] | None = None) -> tuple[ApiKey, str]:
    """Draw a key, store its hash and write the audit row."""
    for _attempt in range(5):
        prefix = secrets.token_hex(4)
        raw_key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    team=team,
                    is_platform=is_platform,
                    name=name,
                    role=role,
                    scopes=scopes or [],
                    prefix=prefix,
                    hashed_key=api_key_hash(raw_key),
                    created_by=by if isinstance(by, User) else None,
                )
                audit_record(by=by, action=AuditAction.CREATE, obj=key, team=team,
                             changes={"name": {"before": None, "after": name},
                                      "role": {"before": None, "after": role},
                                      **({"scopes": {"before": None, "after": scopes}} if scopes else {}),
                                      **({"platform": {"before": None, "after": True}} if is_platform else {})})
        except IntegrityError:  # prefix collision: 1 in 4 billion, draw again
            continue
        return key, raw_key
    raise RuntimeError("Could not draw a unique API key prefix.")


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, by: User, note: str = "") -> ApiKey:
    """Revoke a key for good. Revoking twice is harmless (and not audited twice)."""
    if not api_key_may_manage(actor=by, team=api_key.team):
        raise ApiKeyError(f"You are not allowed to revoke API keys of {api_key.team}.")
    _revoke_keys(ApiKey.objects.filter(pk=api_key.pk), by=by, note=note)
    api_key.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return api_key


def _revoke_keys(keys, *, by, note: str = "") -> list[ApiKey]:
    """Revoke the active keys among ``keys``, one audit row each. The caller
    holds the transaction and has checked the capability."""
    now = timezone.now()
    revoked = list(keys.filter(revoked_at__isnull=True).select_for_update().order_by("pk"))
    ApiKey.objects.filter(pk__in=[k.pk for k in revoked]).update(
        revoked_at=now, revoked_by=by if isinstance(by, User) else None
    )
    for key in revoked:
        audit_record(by=by, action=AuditAction.REVOKE, obj=key, team=key.team_id,
                     changes={"revoked_at": {"before": None, "after": now}}, note=note)
    return revoked


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key matching a raw key, or None. Records the use."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME or not parts[1] or not parts[2]:
        return None
    # The creator's standing now, in the same query: a key never does more
    # than its creator may do (ApiKey.effective_role).
    creator = User.objects.filter(pk=OuterRef("created_by_id"), is_active=True)
    creator_is_support = Exists(creator.filter(is_superuser=True)) | Exists(
        creator.filter(is_staff=True, groups__in=Group.objects.filter(name=SUPPORT_GROUP))
    )
    creator_role = Membership.objects.filter(
        user_id=OuterRef("created_by_id"), user__is_active=True, team_id=OuterRef("team_id")
    ).values("role")[:1]
    try:
        key = (
            ApiKey.objects.active().select_related("team")
            .annotate(_creator_is_support=creator_is_support, _creator_role=Subquery(creator_role))
            .get(prefix=parts[1][:16])
        )
    except ApiKey.DoesNotExist:
        return None
    if not secrets.compare_digest(key.hashed_key, api_key_hash(raw_key)):
        return None
    api_key_touch(api_key=key)
    return key


def api_key_note_throttled(*, api_key: ApiKey, now=None) -> None:
    """Record that the key was refused for its rate limit: once per key and
    minute (the cache says whether this minute is recorded), so a flood of
    refusals is one write a minute, not one per refusal."""
    now = now or timezone.now()
    if not cache.add(f"apikey:throttled:{api_key.pk}:{int(now.timestamp()) // 60}", 1, timeout=120):
        return
    ApiKey.objects.filter(pk=api_key.pk).update(
        throttled_minutes=F("throttled_minutes") + 1, last_throttled_at=now
    )


def api_key_touch(*, api_key: ApiKey, now=None) -> None:
    """Record that the key was used, at most once per LAST_USED_RESOLUTION.

    The in-memory value (read with the key) skips the write almost always; the
    conditional UPDATE keeps concurrent requests from each writing it.
    """
    now = now or timezone.now()
    threshold = now - LAST_USED_RESOLUTION
    if api_key.last_used_at is not None and api_key.last_used_at >= threshold:
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=threshold)
    ).update(last_used_at=now)
    api_key.last_used_at = now
