"""Every model write in the back-offices and the API goes through a service.

Lists the ModelAdmin classes (and their inlines) registered on both admin
sites and the API's views, and fails when one of them

- writes a model itself: ``.save()``, ``.delete()``, ``objects.create``, a
  queryset ``update``, ``form.save()``, or hands the write back to Django or
  DRF with ``super().save_model(...)`` / ``super().perform_create(...)``;
- may write (the permissions say so) but leaves the write to Django's or
  DRF's default (``save_model``, ``delete_model``, ``perform_create``, ...).

The project's own methods are read with ``ast``; nothing is executed but the
permission checks.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest
from django.contrib import admin
from django.test import RequestFactory
from rest_framework import mixins

from accounts.admin_sites import operator_site, support_site
from accounts.models import Role
from tests.factories import MembershipFactory, SupportUserFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PROJECT = ("core", "accounts", "chargepoints", "reporting", "notifications", "gateway", "drivers", "privacy",
           "webhooks", "performance", "config")

# Library models whose own admin writes them: the beat schedules of
# django-celery-beat (support sets how often the sweep runs). Not domain data.
EXEMPT_MODELS = {"django_celery_beat.periodictask", "django_celery_beat.intervalschedule",
                 "django_celery_beat.crontabschedule"}

WRITE_METHODS = {"save", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
QUERYSET_WRITES = {"create", "update"}
DEFAULT_WRITERS = {"save_model", "delete_model", "delete_queryset", "save_formset", "save_related",
                   "perform_create", "perform_update", "perform_destroy"}


def _ours(obj) -> bool:
    return (getattr(obj, "__module__", "") or "").split(".")[0] in PROJECT


def _chain(node) -> list[str]:
    """The names along a call's receiver: objects.filter(...).update -> [..., 'objects', 'filter']."""
    names = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def direct_writes(cls) -> list[str]:
    """The writes in the source of ``cls`` (its own body only)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        receiver = node.func.value
        chain = _chain(receiver)
        is_super = isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super"
        if is_super and method in DEFAULT_WRITERS:
            found.append(f"super().{method}() (line {node.lineno})")
        elif method in WRITE_METHODS:
            found.append(f".{method}() (line {node.lineno})")
        elif method in QUERYSET_WRITES and (
            "objects" in chain or {"filter", "exclude", "all"} & set(chain) or any("queryset" in n for n in chain)
        ):
            found.append(f"{'.'.join(chain)}.{method}() (line {node.lineno})")
    return [f"{cls.__module__}.{cls.__qualname__}: {w}" for w in found]


def defined_by_us(cls, method: str) -> bool:
    for klass in cls.__mro__:
        if method in vars(klass):
            return _ours(klass)
    return False


# --- What there is ---------------------------------------------------------------


def model_admins():
    for site in (support_site, operator_site):
        for model, model_admin in site._registry.items():
            if model._meta.label_lower not in EXEMPT_MODELS:
                yield site, model, model_admin


def inline_classes():
    seen, todo = set(), list(admin.options.InlineModelAdmin.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if _ours(cls):
            seen.add(cls)
    return seen


def api_views():
    from config import api_urls

    views = {viewset for _prefix, viewset, _basename in api_urls.router.registry}
    for pattern in api_urls.urlpatterns:
        cls = getattr(pattern.callback, "cls", None)
        if cls is not None:
            views.add(cls)
    return views


def project_classes(cls):
    return [klass for klass in cls.__mro__ if _ours(klass) and klass is not object]


# --- The rules -------------------------------------------------------------------


def test_no_admin_class_or_api_view_writes_a_model_itself():
    classes = {type(model_admin) for _site, _model, model_admin in model_admins()} | inline_classes() | api_views()
    writes = [w for cls in classes for klass in project_classes(cls) for w in direct_writes(klass)]
    assert not writes, "\n".join(sorted(set(writes)))


@pytest.fixture
def actors():
    support = SupportUserFactory(is_superuser=True)
    owner = UserFactory()
    MembershipFactory(user=owner, team=TeamFactory(), role=Role.OWNER)
    return {support_site.name: support, operator_site.name: owner}


def test_every_admin_that_may_write_saves_through_its_own_code(actors):
    factory = RequestFactory()
    missing = []
    for site, model, model_admin in model_admins():
        request = factory.get("/")
        request.user = actors[site.name]
        cls = type(model_admin)
        name = f"{site.name}: {cls.__qualname__} ({model._meta.label})"
        if model_admin.has_add_permission(request) or model_admin.has_change_permission(request):
            # save_related writes many-to-many fields and inlines, where there are any.
            related = model._meta.many_to_many or model_admin.inlines or defined_by_us(cls, "get_inlines")
            for method in ("save_model", "save_related") if related else ("save_model",):
                if not defined_by_us(cls, method):
                    missing.append(f"{name} leaves {method} to Django")
        if model_admin.has_delete_permission(request):
            for method in ("delete_model", "delete_queryset"):
                if not defined_by_us(cls, method):
                    missing.append(f"{name} leaves {method} to Django")
    assert missing == [], "\n".join(missing)


def api_view_gaps(view) -> list[str]:
    """The writes a view leaves to DRF's defaults (which save the serializer)."""
    gaps = []
    for mixin, methods in ((mixins.CreateModelMixin, ("create", "perform_create")),
                           (mixins.UpdateModelMixin, ("update", "perform_update")),
                           (mixins.DestroyModelMixin, ("destroy", "perform_destroy"))):
        if issubclass(view, mixin) and not any(defined_by_us(view, m) for m in methods):
            gaps.append(f"{view.__qualname__} leaves {methods[1]} to DRF")
    return gaps


def test_every_api_view_that_may_write_calls_its_own_code():
    gaps = [gap for view in api_views() for gap in api_view_gaps(view)]
    assert gaps == [], "\n".join(gaps)


# --- The checker itself catches what it should -------------------------------------


class _BadAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        obj.save()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)

    def log(self, request, queryset):
        queryset.update(name="x")
        type(self).model.objects.create(name="y")
        {}.update(a=1)  # a dict, not a queryset


def test_the_checker_finds_direct_writes():
    found = "\n".join(direct_writes(_BadAdmin))
    assert ".save() (line 3)" in found
    assert "super().delete_model() (line 6)" in found
    assert "queryset.update() (line 9)" in found
    assert ".objects.create() (line 10)" in found
    assert len(direct_writes(_BadAdmin)) == 4


def test_the_checker_finds_a_viewset_that_leaves_the_write_to_drf():
    from rest_framework import viewsets

    class BadViewSet(viewsets.ModelViewSet):
        pass

    BadViewSet.__module__ = "reporting.api.views"  # as if it were ours
    assert api_view_gaps(BadViewSet) == [f"{BadViewSet.__qualname__} leaves perform_{m} to DRF"
                                          for m in ("create", "update", "destroy")]
