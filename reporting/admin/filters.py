"""List filters for reports whose choices come from what the user may see."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.db.models.lookups import In
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from accounts.permissions import is_support, person_label, visible_team_ids
from chargepoints.models import Site
from core.admin.filters import DateRangeFilter, ScopedRelatedFilter
from reporting.catalogue import Party
from reporting.models import ReportState
from reporting.querysets import waiting_team


class TeamFilter(ScopedRelatedFilter):
    """Reports about charge points the team owns or operates."""

    title = _("team")
    parameter_name = "team"
    related_model = Team
    lookup = "owner_team_id|operator_team_id"  # a site report carries its site's team in both

    def queryset(self, request, queryset):
        value = self.value()
        if value is not None and str(value).isdigit():
            # The same condition, remembered as two index ranges (by_ranges).
            return queryset.any_team(int(value))
        return super().queryset(request, queryset)


class SiteFilter(ScopedRelatedFilter):
    title = _("charging site")
    parameter_name = "site"
    related_model = Site
    lookup = "charge_point__site_id|site_id"

    def lookups(self, request, model_admin):
        team_id = request.GET.get("team", "")
        sites = Site.objects.for_user(request.user).order_by("name")
        if team_id.isdigit():  # a team is chosen: its sites only
            sites = sites.filter(team_id=int(team_id))
        return [(str(site.pk), site.name) for site in sites[: self.max_choices]]


CreatedRangeFilter = DateRangeFilter.on("created_at", _("created"))


class StateFilter(admin.SimpleListFilter):
    """The list opens on the unresolved reports (open or assigned): that is
    the work. "All" is a choice of its own (``state=all``), not the absence
    of one."""

    title = _("state")
    parameter_name = "state"
    ALL = "all"
    UNRESOLVED = "unresolved"

    def lookups(self, request, model_admin):
        return [(self.UNRESOLVED, _("Unresolved (open or assigned)")), *ReportState.choices]

    def choices(self, changelist):
        value = self.value()
        yield {
            "selected": value == self.ALL,
            "query_string": changelist.get_query_string({self.parameter_name: self.ALL}),
            "display": _("All"),
        }
        for lookup, title in self.lookup_choices:
            selected = value == lookup or (value is None and lookup == self.UNRESOLVED)
            yield {
                "selected": selected,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value is None or value == self.UNRESOLVED:
            return queryset.unresolved()
        if value == self.ALL:
            return queryset
        if value in ReportState.values:
            return queryset.filter(state=value)
        return queryset.none()


def my_team_q(user, *, support: bool) -> Q:
    """Reports waiting on the user's party: support's queue for support
    staff; for a team member, the reports assigned to the operator of the
    charge points their teams operate or to the owner of those they own."""
    if support:
        return Q(assigned_party=Party.SUPPORT)
    team_ids = list(visible_team_ids(user) or [])
    # A site report carries the site's team in both columns: it acts as both.
    return Q(In(waiting_team(), team_ids))


class QuickViewFilter(admin.SimpleListFilter):
    """The views above the list ("Assigned to me", "My team's",
    "Unassigned"); each keeps the state filter (unresolved by default).
    Shown as links above the table, not in the filter panel."""

    title = _("view")
    parameter_name = "view"
    template = "admin/filters/hidden.html"  # the links above the list instead
    MINE, TEAM, UNASSIGNED = "mine", "team", "unassigned"

    def __init__(self, request, params, model, model_admin):
        self.model_admin = model_admin
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [
            (self.MINE, _("Assigned to me")),
            (self.TEAM, _("My team's")),
            (self.UNASSIGNED, _("Unassigned")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == self.MINE:
            return queryset.filter(assigned_to_id=request.user.pk)
        if value == self.TEAM:
            support = self.model_admin.on_support_site() and is_support(request.user)
            # One range of report_unres_waiting_idx already, read as such.
            return queryset.filter(my_team_q(request.user, support=support)).without_ranges()
        if value == self.UNASSIGNED:
            return queryset.filter(assigned_to__isnull=True)
        return queryset.none()


class AssigneeFilter(admin.SimpleListFilter):
    """Reports assigned to one person. The choices are the people the user
    may see: on /admin/ support staff and every team's members (named as
    support sees them); on /operator/ the members of the user's own teams
    (by name only, see accounts.permissions.person_label)."""

    title = _("assignee")
    parameter_name = "assignee"
    max_choices = 200

    def lookups(self, request, model_admin):
        user = request.user
        team_ids = visible_team_ids(user)
        for_support = model_admin.on_support_site()
        people = User.objects.filter(is_active=True)
        if team_ids is None:
            people = people.filter(Q(memberships__isnull=False) | Q(is_staff=True))
        else:
            people = people.filter(memberships__team_id__in=team_ids)
        people = people.distinct().order_by("first_name", "last_name", "email")[: self.max_choices]
        choices = [(str(person.pk), person_label(person, for_support=for_support)) for person in people]
        mine = str(user.pk)
        # The user first: the most common choice.
        choices.sort(key=lambda choice: choice[0] != mine)
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not str(value).isdigit():
            return queryset.none()
        person_id = int(value)
        # Only people the user may see: a hand-made URL naming anyone else finds nothing.
        if person_id not in {int(pk) for pk, _label in self.lookup_choices}:
            return queryset.none()
        return queryset.filter(assigned_to_id=person_id)


class ResponseTargetFilter(admin.SimpleListFilter):
    """Unresolved reports past a response-time target, or at risk of it
    (reporting/response_targets.py)."""

    title = _("response-time target")
    parameter_name = "target"

    def lookups(self, request, model_admin):
        return [("breached", _("Breached")), ("at_risk", _("At risk"))]

    def queryset(self, request, queryset):
        from reporting.response_targets import reports_by_target_status

        if self.value() in ("breached", "at_risk"):
            return reports_by_target_status(queryset, status=self.value())
        return queryset


def titled(title):
    """A choices filter on a model field, under a translated title (the
    field's own name is not marked for translation)."""

    class TitledChoicesFilter(admin.ChoicesFieldListFilter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return TitledChoicesFilter
