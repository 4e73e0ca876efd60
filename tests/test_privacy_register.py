"""docs/privacy.md lists every field that holds personal data (or says why a
field that looks personal is not): a new field that looks personal and is in
neither table fails here, and so does a table row for a field that is gone."""

import re
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
REGISTER = ROOT / "docs" / "privacy.md"

# Third-party apps that store data about people, besides the project's own.
THIRD_PARTY = {"axes"}

# A field looks personal by a part of its name ...
PERSONAL_WORDS = {
    "name", "email", "phone", "address", "description", "body", "note", "comment",
    "text", "tag", "username", "ip", "agent", "data", "subject", "headers", "detail",
    "file", "filename", "repr", "label", "changes", "digits", "reviewer",
}
# ... or by its type: free text, e-mail, files, addresses, JSON blobs.
PERSONAL_TYPES = {
    "EmailField", "FileField", "ImageField", "GenericIPAddressField", "TextField", "JSONField",
}
ROW = re.compile(r"^\|\s*`([a-z_]+\.[A-Za-z]+\.[a-z_0-9]+)`\s*\|")


def _project_models():
    for model in apps.get_models():
        config = model._meta.app_config
        own = Path(config.path).resolve().is_relative_to(ROOT) and ".venv" not in Path(config.path).parts
        if own or config.label in THIRD_PARTY:
            yield model


def _looks_personal(field) -> bool:
    words = set(field.name.split("_"))
    return bool(words & PERSONAL_WORDS) or field.get_internal_type() in PERSONAL_TYPES


def _registered() -> set[str]:
    return {match.group(1) for line in REGISTER.read_text().splitlines() if (match := ROW.match(line))}


def test_every_field_that_looks_personal_is_in_the_register():
    registered = _registered()
    missing = sorted(
        f"{model._meta.label}.{field.name}"
        for model in _project_models()
        for field in model._meta.concrete_fields
        if _looks_personal(field) and f"{model._meta.label}.{field.name}" not in registered
    )
    assert not missing, (
        "These fields look personal but docs/privacy.md does not list them "
        "(add each to 'Personal data' with why, who and how long, or to "
        "'Looked at, not personal' with the reason):\n" + "\n".join(missing)
    )


def test_the_register_names_only_fields_that_exist():
    existing = {
        f"{model._meta.label}.{field.name}" for model in _project_models() for field in model._meta.concrete_fields
    }
    stale = sorted(_registered() - existing)
    assert not stale, "docs/privacy.md lists fields that no longer exist:\n" + "\n".join(stale)


def test_the_register_is_read():
    # The parser must see both tables; an empty parse would pass the tests above.
    assert {"reporting.ReportReporter.email", "accounts.Team.name"} <= _registered()
