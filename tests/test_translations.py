"""Every string the project shows is marked for translation and has its
Danish translation: ``makemessages -l da`` run over a copy of the source
finds no msgid that the committed locale/da/LC_MESSAGES/django.po lacks or
leaves untranslated (or fuzzy)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PO = Path("locale") / "da" / "LC_MESSAGES" / "django.po"
SKIP = shutil.ignore_patterns(".git", ".venv", "venv", "node_modules", "__pycache__", "media", "screenshots",
                              "*.png", "*.ico", "*.mo", ".pytest_cache", ".ruff_cache")


def po_entries(path: Path) -> dict[tuple[str, str], dict]:
    """(msgctxt, msgid) -> {"msgstr": [...], "fuzzy": bool, "obsolete": bool}."""
    entries, entry, field = {}, {}, None

    def flush():
        if "msgid" in entry:
            entries[(entry.get("msgctxt", ""), entry["msgid"])] = {
                "msgstr": entry.get("msgstr", []), "fuzzy": entry.get("fuzzy", False),
                "obsolete": entry.get("obsolete", False)}

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        # An entry not parted from the last by a blank line: a comment or a
        # new msgid after a msgstr starts the next one.
        if "msgstr" in entry and line.startswith(("#", "msgid ", "msgctxt ")):
            flush()
            entry, field = {}, None
        if not line.strip():
            flush()
            entry, field = {}, None
            continue
        if line.startswith("#,"):
            entry["fuzzy"] = entry.get("fuzzy", False) or "fuzzy" in line
            continue
        if line.startswith("#~"):
            entry["obsolete"] = True
            line = line[2:].strip()
        elif line.startswith("#"):
            continue
        keyword = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$', line)
        if keyword:
            name, text = keyword.groups()
            if name.startswith("msgstr"):
                entry.setdefault("msgstr", []).append(text)
                field = ("msgstr", len(entry["msgstr"]) - 1)
            else:
                entry[name] = text
                field = name
            continue
        more = re.match(r'^"(.*)"$', line)
        if more and field:
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] += more.group(1)
            else:
                entry[field] += more.group(1)
    return entries


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (apt-get install gettext)")
def test_makemessages_finds_nothing_untranslated(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=SKIP)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "da", "--no-wrap", "--no-location"],
        cwd=copy, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr

    committed = po_entries(ROOT / PO)
    found = po_entries(copy / PO)
    missing = []
    for key, entry in found.items():
        if entry["obsolete"] or not key[1]:
            continue
        have = committed.get(key)
        if have is None or have["obsolete"] or have["fuzzy"] or not all(have["msgstr"]):
            missing.append(key[1] if not key[0] else f"{key[0]}|{key[1]}")
    assert not missing, (
        f"{len(missing)} string(s) without a Danish translation in {PO}:\n" + "\n".join(sorted(missing))
    )
