from __future__ import annotations

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts.permissions import visible_team_ids
from accounts.roles import Role

SUPPORT_GROUP = "Support"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in, by e-mail. Support staff are staff users in the
    Support group; operators are users with memberships in teams."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    phone = models.CharField(max_length=40, blank=True)
    # The back-office's language for this person; empty: their team's
    # language, else the installation's (accounts.preferences.user_language).
    language = models.CharField(
        _("language"), max_length=5, blank=True, default="",
        help_text=_("The back-office's language. Empty: the team's language."),
    )
    # Dates in the back-office are shown in this time zone (an IANA name,
    # e.g. Europe/Copenhagen); empty: the installation's TIME_ZONE.
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, default="",
        help_text=_("An IANA time zone such as Europe/Copenhagen. Empty: the installation's."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{full} <{self.email}>" if full else self.email

    @property
    def is_support(self) -> bool:
        """Support staff see and change every team's data."""
        if not (self.is_active and self.is_staff):
            return False
        if self.is_superuser:
            return True
        cached = getattr(self, "_is_support_cache", None)
        if cached is None:
            cached = self.groups.filter(name=SUPPORT_GROUP).exists()
            self._is_support_cache = cached
        return cached

    def roles_by_team(self) -> dict[int, Role]:
        """Team id -> this user's role there. Cached on the instance."""
        cached = getattr(self, "_roles_by_team_cache", None)
        if cached is None:
            cached = {
                team_id: Role(role)
                for team_id, role in self.memberships.values_list("team_id", "role")
            }
            self._roles_by_team_cache = cached
        return cached

    @property
    def actor_label(self) -> str:
        return self.get_full_name() or self.email


class TeamQuerySet(models.QuerySet):
    def for_user(self, actor) -> TeamQuerySet:
        """Teams the actor (a user or an API key) may see."""
        team_ids = visible_team_ids(actor)
        return self if team_ids is None else self.filter(pk__in=team_ids)


class Team(models.Model):
    """An organisation: owns charge points, operates them, or both."""

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        DANISH = "da", _("Danish")

    name = models.CharField(max_length=200, unique=True)
    country = models.CharField(
        max_length=2, help_text=_("ISO 3166-1 alpha-2 country code, e.g. DK.")
    )
    language = models.CharField(max_length=5, choices=Language.choices, default=Language.ENGLISH)
    # The team's API keys' limits per minute and kind of call (support sets
    # them; empty: the installation's default, API_RATE_* settings).
    api_reads_per_minute = models.PositiveIntegerField(
        _("API reads per minute"), null=True, blank=True, help_text=_("Per key. Empty: the default.")
    )
    api_writes_per_minute = models.PositiveIntegerField(
        _("API writes per minute"), null=True, blank=True, help_text=_("Per key. Empty: the default.")
    )
    api_telemetry_per_minute = models.PositiveIntegerField(
        _("API telemetry batches per minute"), null=True, blank=True,
        help_text=_("Per key; a batch carries up to 1,000 events. Empty: the default."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"), name="team_country_iso_code"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["team__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_unique_user_team")
        ]

    def __str__(self) -> str:
        return f"{self.user.email} — {self.get_role_display()} of {self.team.name}"


class ApiKeyScope(models.TextChoices):
    """Rights a key holds only when it was given them, whatever its role."""

    DRIVER_CONTACT = "driver_contact", _("Drivers' contact details")


class ApiKeyQuerySet(models.QuerySet):
    def for_user(self, actor) -> ApiKeyQuerySet:
        """Keys of the teams the actor may see."""
        team_ids = visible_team_ids(actor)
        return self if team_ids is None else self.filter(team_id__in=team_ids)

    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A credential for an integrator: one team, one role.

    Only a SHA-256 hash of the key is stored; the raw key is shown once when
    it is created. The public ``prefix`` (part of the raw key) finds the row
    without scanning. A key is an *actor* like a user: it answers
    ``is_support`` and ``roles_by_team()``, so tenant scoping, permissions and
    the reporting services treat both alike. It is also what DRF puts in
    ``request.user`` for a key request, hence ``is_authenticated``.
    """

    # Empty only for a platform key (below). blank=False keeps the team
    # required in the ordinary key forms.
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, related_name="api_keys")
    name = models.CharField(max_length=100, help_text=_("What uses the key, e.g. 'CSMS production'."))
    # A platform key (the drivers' app) belongs to no team. Its only powers:
    # file a user report on any charge point on behalf of a driver, and read
    # back the reports it filed (drivers.api). Every other endpoint refuses it.
    is_platform = models.BooleanField(_("platform key"), default=False, editable=False)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    # What the key may read beyond its role (ApiKeyScope), given when it is made.
    scopes = models.JSONField(default=list, blank=True, editable=False)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A key that keeps hitting its rate limit: the minutes in which it was
    # refused (429) at least once, and the last time.
    throttled_minutes = models.PositiveIntegerField(default=0, editable=False)
    last_throttled_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = ApiKeyQuerySet.as_manager()

    # The parts of Django's user interface that DRF and the permissions read.
    is_support = False
    is_staff = False
    is_superuser = False
    is_anonymous = False
    is_authenticated = True

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["team__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_platform=True, team__isnull=True) | Q(is_platform=False, team__isnull=False),
                name="apikey_team_unless_platform",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    def roles_by_team(self) -> dict[int, Role]:
        if self.team_id is None:  # a platform key: no team, so no team's data
            return {}
        role = self.effective_role
        return {} if role is None else {self.team_id: role}

    @cached_property
    def effective_role(self) -> Role | None:
        """The key's role, capped by what its creator may do in the team now:
        a key never does more than the person who made it. A creator who
        left the team (or lost support rights) leaves the key no rights.
        ``api_key_authenticate`` reads the creator's standing in the same
        query as the key; elsewhere it is looked up here."""
        creator_role = getattr(self, "_creator_role", None)
        creator_is_support = getattr(self, "_creator_is_support", None)
        if creator_is_support is None:
            creator = self.created_by if self.created_by_id else None
            creator_is_support = bool(creator and creator.is_support)
            creator_role = (
                Membership.objects.filter(user_id=self.created_by_id, user__is_active=True, team_id=self.team_id)
                .values_list("role", flat=True).first()
                if creator else None
            )
        if creator_is_support:
            return Role(self.role)
        if creator_role is None:
            return None
        return min(Role(self.role), Role(creator_role), key=lambda r: r.rank)

    @property
    def actor_label(self) -> str:
        if self.is_platform:
            return f"Platform key '{self.name}'"
        return f"API key '{self.name}'"


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")
    MOVE = "move", _("Moved between teams")
    REVOKE = "revoke", _("Revoked")


class AuditLogQuerySet(models.QuerySet):
    def for_user(self, actor) -> AuditLogQuerySet:
        """Support sees every row; a team's owners and admins their team's
        (including a charge point that left the team)."""
        from accounts.permissions import Capability, teams_with_capability

        team_ids = teams_with_capability(actor, Capability.VIEW_AUDIT)
        if team_ids is None:
            return self
        return self.filter(Q(team_id__in=team_ids) | Q(former_team_id__in=team_ids))


class AuditLog(models.Model):
    """One row per change made through a service: who, when, in which team,
    to which object, and each changed field before and after. Written in the
    same transaction as the change; never edited."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    api_key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=200, help_text=_("Who acted, as shown: a person, an API key or the system."))
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    former_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text=_("For a move between teams: the team the object left."),
    )
    object_type = models.CharField(max_length=100, help_text=_("app_label.model, e.g. chargepoints.chargepoint"))
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    changes = models.JSONField(default=dict, blank=True, help_text=_('Field -> {"before": ..., "after": ...}.'))
    note = models.CharField(max_length=300, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["team", "-created_at"], name="audit_team_created_idx"),
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr} by {self.actor_label}"
