"""Writes on sites and charge points (the services; telemetry is
``chargepoints/services/``). Each takes ``by`` (the actor), checks the
capability itself and writes one audit row in the same transaction.

Who may do what with a charge point:

- Its owner team decides: registering one (for itself), its site, deleting
  it. The site must belong to the owner team.
- Its operator team may change what it needs to run it (name, identity,
  vendor, firmware, connectivity), as may the owner.
- Moving it between teams (a new owner or operator) changes who sees all its
  reports: support only.
- A charge point or site that history refers to (reports, telemetry, charge
  points on a site) is never deleted with it: refused (409).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.audit import audit_diff, audit_record, audit_snapshot
from accounts.models import AuditAction, Team
from accounts.permissions import Capability, can_on_team, is_support
from chargepoints import hooks
from chargepoints.health_marks import health_marks_add
from chargepoints.models import ChargePoint, Site
from core.errors import Conflict, Invalid, NotAllowed

SITE_FIELDS = ("team", "name", "address", "city", "postal_code", "country", "latitude", "longitude")
IDENTITY_FIELDS = ("name", "serial_number", "ocpp_id", "vendor", "model", "firmware_version", "connectivity")
CHARGE_POINT_FIELDS = ("site", "owner", "operator", *IDENTITY_FIELDS)


def _team_id(value) -> int | None:
    return value.pk if isinstance(value, Team) else value


# --- Sites ---------------------------------------------------------------------------


def _require_edit(by, team_id: int, what: str) -> None:
    if not can_on_team(by, Capability.EDIT_ASSETS, team_id=team_id):
        raise NotAllowed(f"You need the admin role in the team that owns {what}.")


@transaction.atomic
def site_create(*, by, **fields) -> Site:
    unknown = set(fields) - set(SITE_FIELDS)
    if unknown:
        raise Invalid(f"Unknown site fields: {', '.join(sorted(unknown))}.")
    team = fields.get("team")
    if team is None:
        raise Invalid("A site belongs to a team.", field="team")
    _require_edit(by, _team_id(team), "the site")
    site = Site.objects.create(**fields)
    audit_record(by=by, action=AuditAction.CREATE, obj=site, team=site.team_id,
                 changes=audit_diff({}, audit_snapshot(site, SITE_FIELDS)))
    return site


@transaction.atomic
def site_update(*, site: Site, by, **changes) -> Site:
    """Change a site. Giving it to another team is support's, and only while
    it holds no charge points (theirs must stay on their owner's sites)."""
    unknown = set(changes) - set(SITE_FIELDS)
    if unknown:
        raise Invalid(f"Unknown site fields: {', '.join(sorted(unknown))}.")
    site = Site.objects.select_for_update().get(pk=site.pk)
    _require_edit(by, site.team_id, "the site")
    before = audit_snapshot(site, SITE_FIELDS)
    for name, value in changes.items():
        setattr(site, name, value)
    diff = audit_diff(before, audit_snapshot(site, SITE_FIELDS))
    if not diff:
        return site
    action, former_team = AuditAction.UPDATE, None
    if "team" in diff:
        if not is_support(by):
            raise NotAllowed("Only support may give a site to another team.", field="team")
        if ChargePoint.objects.filter(site=site).exists():
            raise Conflict("The site holds charge points; move them to another site first.", code="protected")
        action, former_team = AuditAction.MOVE, before["team"]
    site.save(update_fields=list(diff))
    if "team" in diff:
        hooks.site_changed_team(site=site)
    audit_record(by=by, action=action, obj=site, team=site.team_id, former_team=former_team, changes=diff)
    return site


@transaction.atomic
def site_delete(*, site: Site, by) -> None:
    _require_edit(by, site.team_id, "the site")
    if ChargePoint.objects.filter(site=site).exists():
        raise Conflict("The site still holds charge points; move or delete them first.", code="protected")
    audit_record(by=by, action=AuditAction.DELETE, obj=site, team=site.team_id,
                 changes=audit_diff(audit_snapshot(site, SITE_FIELDS), {}))
    site.delete()


# --- Charge points ----------------------------------------------------------------


def _check_site(site: Site, owner_id: int) -> None:
    if site.team_id != owner_id:
        raise Invalid("The site must belong to the owner team.", field="site")


def _save(charge_point: ChargePoint, **kwargs) -> None:
    try:
        with transaction.atomic():
            charge_point.save(**kwargs)
    except IntegrityError:
        if ChargePoint.objects.filter(ocpp_id=charge_point.ocpp_id).exclude(pk=charge_point.pk).exists():
            raise Invalid("Another charge point has this OCPP id.", field="ocpp_id") from None
        raise


@transaction.atomic
def charge_point_create(*, by, site: Site, owner: Team, operator: Team | None = None, **identity) -> ChargePoint:
    """Register a charge point. The owner team registers it, on one of its
    own sites; naming another team as the operator needs the admin role
    there too (both sides agree), or support."""
    unknown = set(identity) - set(IDENTITY_FIELDS)
    if unknown:
        raise Invalid(f"Unknown charge point fields: {', '.join(sorted(unknown))}.")
    operator = operator or owner
    if not can_on_team(by, Capability.EDIT_ASSETS, team_id=owner.pk):
        raise NotAllowed("Only the owner team's admins (or support) may register its charge points.", field="owner")
    if operator.pk != owner.pk and not can_on_team(by, Capability.EDIT_ASSETS, team_id=operator.pk):
        raise NotAllowed("Naming another team as the operator needs the admin role in that team too, or support.",
                         field="operator")
    _check_site(site, owner.pk)
    charge_point = ChargePoint(site=site, owner=owner, operator=operator, **identity)
    _save(charge_point)
    health_marks_add([charge_point.pk])  # registered in a state the health checks look at
    audit_record(by=by, action=AuditAction.CREATE, obj=charge_point, team=owner,
                 changes=audit_diff({}, audit_snapshot(charge_point, CHARGE_POINT_FIELDS)))
    return charge_point


@transaction.atomic
def charge_point_update(*, charge_point: ChargePoint, by, **changes) -> ChargePoint:
    """Change a charge point. The identity: its owner or operator team's
    admins. Its site: the owner's. Its owner or operator: support only (a
    move between teams changes who sees all its reports)."""
    unknown = set(changes) - set(CHARGE_POINT_FIELDS)
    if unknown:
        raise Invalid(f"Unknown charge point fields: {', '.join(sorted(unknown))}.")
    charge_point = ChargePoint.objects.select_for_update().get(pk=charge_point.pk)
    before = audit_snapshot(charge_point, CHARGE_POINT_FIELDS)
    for name, value in changes.items():
        setattr(charge_point, name, value)
    diff = audit_diff(before, audit_snapshot(charge_point, CHARGE_POINT_FIELDS))
    if not diff:
        return charge_point
    owner_id, operator_id = before["owner"], before["operator"]
    if not (can_on_team(by, Capability.EDIT_ASSETS, team_id=owner_id)
            or can_on_team(by, Capability.EDIT_ASSETS, team_id=operator_id)):
        raise NotAllowed("You need the admin role in the owner or operator team to change this charge point.")
    moved = {"owner", "operator"} & set(diff)
    if moved and not is_support(by):
        raise NotAllowed("Moving a charge point to another owner or operator is support's job.",
                         field=sorted(moved)[0])
    if "site" in diff and not is_support(by) and not can_on_team(by, Capability.EDIT_ASSETS, team_id=owner_id):
        raise NotAllowed("Only the owner team decides where its charge point stands.", field="site")
    if {"site", "owner"} & set(diff):
        _check_site(charge_point.site, charge_point.owner_id)
    _save(charge_point, update_fields=list(diff))
    if moved:
        # Its reports follow it (reporting.teams), in this transaction.
        hooks.charge_point_changed_teams(charge_point=charge_point)
    if {"operator", "site"} & set(diff):
        # Other thresholds (the operator's) or another site's outage: the
        # health engine looks at it again.
        health_marks_add([charge_point.pk])
    action = AuditAction.MOVE if moved else AuditAction.UPDATE
    former = owner_id if "owner" in diff else (operator_id if "operator" in diff else None)
    audit_record(by=by, action=action, obj=charge_point, team=charge_point.owner_id, former_team=former,
                 changes=diff)
    return charge_point


def charge_point_history(*, charge_point: ChargePoint) -> list[str]:
    """What refers to the charge point (telemetry here; reports and whatever
    the apps above add), as words; empty when nothing does. Read from the
    models' relations, so this app needs no import of the apps above it."""
    found = []
    relations = [f for f in ChargePoint._meta.get_fields(include_hidden=True) if f.auto_created and f.one_to_many]
    for relation in relations:
        if relation.related_model._default_manager.filter(
            **{relation.field.name: charge_point.pk}
        ).exists():
            found.append(str(relation.related_model._meta.verbose_name_plural))
    return found


@transaction.atomic
def charge_point_delete(*, charge_point: ChargePoint, by) -> None:
    """Delete a charge point nothing refers to (registered by mistake). The
    owner team's admins, or support. History is never deleted with it."""
    if not can_on_team(by, Capability.EDIT_ASSETS, team_id=charge_point.owner_id):
        raise NotAllowed("Only the owner team's admins (or support) may delete its charge point.")
    ChargePoint.objects.select_for_update().filter(pk=charge_point.pk).values_list("pk").first()
    history = charge_point_history(charge_point=charge_point)
    if history:
        raise Conflict(
            f"{charge_point} has {', '.join(history)}; it is kept so that history stays whole.",
            code="protected",
        )
    audit_record(by=by, action=AuditAction.DELETE, obj=charge_point, team=charge_point.owner_id,
                 changes=audit_diff(audit_snapshot(charge_point, CHARGE_POINT_FIELDS), {}))
    charge_point.delete()
