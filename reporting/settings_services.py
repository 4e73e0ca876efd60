"""Writes on a team's reporting settings: who is notified of new reports,
and (support) the team's health-check thresholds. Each takes ``by``, checks
the capability itself and writes one audit row in the same transaction."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import audit_diff, audit_record, audit_snapshot
from accounts.models import AuditAction, Team
from accounts.permissions import Capability, can_on_team, is_support
from core.errors import Invalid, NotAllowed

from .models import HealthCheckSettings, ReportContact, ReportSettings
from .settings_models import Delivery

KEEP = object()  # an argument not given: the field stays as it is
DELIVERY_FIELDS = ["delivery", "digest_minutes", "burst_threshold"]
# Every setting besides the contacts, audited with them.
OTHER_FIELDS = [*DELIVERY_FIELDS, "driver_contact_days", "self_heal", "self_heal_minutes", "route_by_error_hint"]


def report_settings_for_new_team(*, team: Team, **_) -> ReportSettings:
    """Every team has its settings row from the start (the defaults), so no
    page has to create rows when it is read. Called by
    ``accounts.team_services.team_create`` in its transaction."""
    settings, _created = ReportSettings.objects.get_or_create(team=team)
    return settings


def report_contacts_validate(*, contacts: list[dict]) -> None:
    """Each contact of a team has its own e-mail address (compared without
    case). The admin's contact list shows it on the form; the service checks
    it again."""
    seen = set()
    for contact in contacts:
        email = (contact.get("email") or "").strip().lower()
        if email in seen:
            raise Invalid(f"{email} is listed twice; each contact needs its own e-mail address.", field="contacts")
        seen.add(email)


def _contacts_snapshot(settings: ReportSettings) -> list[str]:
    return sorted(
        f"{c.name} <{c.email}>{'' if c.is_active else ' (not notified)'}" for c in settings.contacts.all()
    )


@transaction.atomic
def report_settings_update(
    *, team: Team, email_updates: bool, contacts: list[dict], by, driver_contact_days=KEEP,
    self_heal: bool | None = None, self_heal_minutes: int | None = None, delivery: str | None = None,
    digest_minutes: int | None = None, burst_threshold: int | None | object = KEEP,
    route_by_error_hint: bool | None = None,
) -> ReportSettings:
    """Replace a team's report settings and contacts (each a dict with name,
    email, phone, is_active). Contacts are matched by e-mail, so a contact
    kept in the list keeps its row. Needs the admin role in the team. The
    other settings are left as they are when not given: ``self_heal`` (a
    soft reset before the "in error" check files) and its minutes,
    ``delivery``, ``digest_minutes`` and ``burst_threshold`` (None: the
    default), ``driver_contact_days`` (None: while the report is open)."""
    if not can_on_team(by, Capability.EDIT_ASSETS, team_id=team.pk):
        raise NotAllowed("You need the admin role in this team to change its report settings.")
    report_contacts_validate(contacts=contacts)
    if delivery is not None and delivery not in Delivery.values:
        raise Invalid(f"Delivery must be one of {', '.join(Delivery.values)}.", field="delivery")
    if digest_minutes is not None and not 1 <= digest_minutes <= 1440:
        raise Invalid("A digest's period is 1 to 1440 minutes.", field="digest_minutes")
    if burst_threshold not in (KEEP, None) and burst_threshold < 1:
        raise Invalid("The burst threshold is at least 1 (empty: the default).", field="burst_threshold")
    settings, _ = ReportSettings.objects.select_for_update().get_or_create(team=team)
    if self_heal_minutes is not None and not 1 <= self_heal_minutes <= 1440:
        raise Invalid("Wait from 1 to 1440 minutes after the reset.", field="self_heal_minutes")
    if driver_contact_days not in (KEEP, None) and not (0 <= int(driver_contact_days) <= 3650):
        raise Invalid("Give a number of days from 0 to 3650, or leave it empty.", field="driver_contact_days")
    before = {"email_updates": settings.email_updates, "contacts": _contacts_snapshot(settings),
              **{name: getattr(settings, name) for name in OTHER_FIELDS}}
    settings.email_updates = email_updates
    if driver_contact_days is not KEEP:
        settings.driver_contact_days = driver_contact_days
    if self_heal is not None:
        settings.self_heal = self_heal
    if self_heal_minutes is not None:
        settings.self_heal_minutes = self_heal_minutes
    if route_by_error_hint is not None:
        settings.route_by_error_hint = route_by_error_hint
    if delivery is not None:
        settings.delivery = delivery
    if digest_minutes is not None:
        settings.digest_minutes = digest_minutes
    if burst_threshold is not KEEP:
        settings.burst_threshold = burst_threshold
    settings.save(update_fields=["email_updates", *OTHER_FIELDS, "updated_at"])
    by_email = {c["email"].strip().lower(): c for c in contacts}
    existing = {c.email.lower(): c for c in settings.contacts.all()}
    gone = [c.pk for email, c in existing.items() if email not in by_email]
    if gone:
        ReportContact.objects.filter(pk__in=gone).delete()
    for email, data in by_email.items():
        contact = existing.get(email) or ReportContact(settings=settings)
        contact.name = data["name"]
        contact.email = data["email"].strip()
        contact.phone = data.get("phone") or ""
        contact.is_active = data.get("is_active", True)
        contact.save()
    after = {"email_updates": email_updates, "contacts": _contacts_snapshot(settings),
             **{name: getattr(settings, name) for name in OTHER_FIELDS}}
    diff = audit_diff(before, after)
    if diff:
        audit_record(by=by, action=AuditAction.UPDATE, obj=settings, team=team, changes=diff)
    return settings


HEALTH_FIELDS = [
    f.name for f in HealthCheckSettings._meta.concrete_fields
    if f.name not in ("id", "team", "updated_at")
]


@transaction.atomic
def health_check_settings_save(*, settings: HealthCheckSettings, by) -> HealthCheckSettings:
    """Save a team's health-check overrides as support's form left them."""
    if not is_support(by):
        raise NotAllowed("Only support staff may change the health-check thresholds.")
    created = settings.pk is None
    before = {} if created else audit_snapshot(
        HealthCheckSettings.objects.select_for_update().get(pk=settings.pk), HEALTH_FIELDS
    )
    settings.save()
    diff = audit_diff(before, audit_snapshot(settings, HEALTH_FIELDS))
    audit_record(by=by, action=AuditAction.CREATE if created else AuditAction.UPDATE, obj=settings,
                 team=settings.team_id, changes=diff)
    return settings


@transaction.atomic
def health_check_settings_delete(*, settings: HealthCheckSettings, by) -> None:
    """Back to the defaults for the team."""
    if not is_support(by):
        raise NotAllowed("Only support staff may change the health-check thresholds.")
    audit_record(by=by, action=AuditAction.DELETE, obj=settings, team=settings.team_id,
                 changes=audit_diff(audit_snapshot(settings, HEALTH_FIELDS), {}))
    settings.delete()
