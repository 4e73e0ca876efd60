"""locale/da: the Danish e-mails. The compiled .mo is committed (a fresh
machine needs no gettext), so these tests catch a .po edited but not
compiled, and a reason, source, state or party added without a translation."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from reporting.catalogue import Party, Reason, Source
from reporting.models import ReportState

LOCALE = Path(settings.BASE_DIR) / "locale" / "da" / "LC_MESSAGES"


def po_entries(path: Path) -> dict[tuple[str, str], str]:
    """(context, msgid) -> msgstr for every entry of a .po file (not the
    header); the context is "" for an entry without msgctxt."""
    entries = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#")]
        text = "\n".join(lines)
        match = re.search(r'msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', text + "\n")
        if not match:
            continue

        def unquote(chunk: str) -> str:
            return "".join(re.findall(r'"(.*)"', chunk)).replace('\\"', '"').replace("\\n", "\n")

        context = re.search(r'msgctxt ((?:".*"\n?)+)', text + "\n")
        msgid, msgstr = unquote(match.group(1)), unquote(match.group(2))
        if msgid:
            entries[(unquote(context.group(1)) if context else "", msgid)] = msgstr
    return entries


def looked_up(compiled: gettext.GNUTranslations, context: str, msgid: str) -> str:
    return compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)


@pytest.fixture(scope="module")
def compiled() -> gettext.GNUTranslations:
    with open(LOCALE / "django.mo", "rb") as mo:
        return gettext.GNUTranslations(mo)


def test_every_string_in_the_po_file_is_translated():
    untranslated = [msgid for (_context, msgid), msgstr in po_entries(LOCALE / "django.po").items() if not msgstr]

    assert untranslated == []


def test_the_committed_mo_file_is_compiled_from_the_po_file(compiled):
    stale = {
        (context, msgid): (msgstr, looked_up(compiled, context, msgid))
        for (context, msgid), msgstr in po_entries(LOCALE / "django.po").items()
        if looked_up(compiled, context, msgid) != msgstr
    }

    assert stale == {}, "run: msgfmt --check -o locale/da/LC_MESSAGES/django.mo locale/da/LC_MESSAGES/django.po"


@pytest.mark.parametrize("choices", [Reason, Source, ReportState, Party], ids=lambda c: c.__name__)
def test_every_label_an_email_shows_has_a_danish_translation(compiled, choices):
    catalogue = compiled._catalog  # gettext has no public "is it there"

    missing = [str(label) for label in choices.labels if str(label) not in catalogue]

    assert missing == []
    with translation.override("da"):
        assert [str(label) for label in choices.labels] == [compiled.gettext(str(label)) for label in choices.labels]
