"""The audit trail: every service that changes a record writes one row here,
in its own transaction, through ``audit_record``."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable

from django.db import models

from accounts.models import ApiKey, AuditLog, Team, User

SYSTEM_LABEL = "System"


def audit_actor_label(actor) -> str:
    if actor is None:
        return SYSTEM_LABEL
    return getattr(actor, "actor_label", None) or str(actor)


def _json_value(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | datetime.timedelta):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


def audit_snapshot(obj: models.Model, fields: Iterable[str]) -> dict:
    """Field name -> a JSON-ready value (foreign keys as ids)."""
    snapshot = {}
    for name in fields:
        field = obj._meta.get_field(name)
        snapshot[name] = _json_value(getattr(obj, field.attname))
    return snapshot


def audit_diff(before: dict, after: dict) -> dict:
    """The fields whose value differs: name -> {"before": ..., "after": ...}."""
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def audit_record(
    *,
    by,
    action: str,
    obj: models.Model,
    team: Team | int | None,
    changes: dict | None = None,
    former_team: Team | int | None = None,
    note: str = "",
) -> AuditLog:
    """Write one audit row. ``by`` is a user, an API key or None (the
    system). The caller holds the transaction."""
    return AuditLog.objects.create(
        actor=by if isinstance(by, User) else None,
        api_key=by if isinstance(by, ApiKey) else None,
        actor_label=audit_actor_label(by)[:200],
        team_id=team.pk if isinstance(team, Team) else team,
        former_team_id=former_team.pk if isinstance(former_team, Team) else former_team,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action=action,
        changes=_json_value(changes or {}),
        note=note[:300],
    )
