"""The timeline's sentences in the reader's language.

The services write a timeline note once, in English, when the change
happens (it is also the e-mails' and webhooks' record). The sentences the
system itself writes follow a few fixed patterns; the report page shows
those in the reader's language. A note a person wrote is shown as written.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext

from reporting.catalogue import Party

# The English party names as the services write them into notes (the label
# lowercased; older rows say "owner").
_PARTIES = {str(label).lower(): value for value, label in Party.choices} | {"owner": Party.OWNER}


def _party(name: str) -> str | None:
    value = _PARTIES.get(name)
    return str(Party(value).label).lower() if value else None


def _routed(match: re.Match) -> str | None:
    party = _party(match["party"])
    return gettext("Routed to the %(party)s automatically.") % {"party": party} if party else None


def _filed(match: re.Match) -> str | None:
    party = _party(match["party"])
    if not party:
        return None
    return gettext("Filed by the health checks and routed to the %(party)s automatically.") % {"party": party}


def _resolved_by_checks(match: re.Match) -> str:
    return gettext("Resolved by the health checks: %(note)s") % {"note": translate_note(match["note"])}


def _stays_open(match: re.Match) -> str:
    return gettext("%(note)s The report stays open: a person has it or auto-resolve is off.") % {
        "note": translate_note(match["note"])}


_PATTERNS = [
    (re.compile(r"^Routed to the (?P<party>[a-z ]+) automatically\.$"), _routed),
    (re.compile(r"^Filed by the health checks and routed to the (?P<party>[a-z ]+) automatically\.$"), _filed),
    (re.compile(r"^Resolved by the health checks: (?P<note>.+)$", re.S), _resolved_by_checks),
    (re.compile(r"^(?P<note>.+) The report stays open: a person has it or auto-resolve is off\.$", re.S),
     _stays_open),
]
_FIXED = {
    "The problem is back.": lambda: gettext("The problem is back."),
    "The driver replied by e-mail.": lambda: gettext("The driver replied by e-mail."),
    "A driver reported this again.": lambda: gettext("A driver reported this again."),
}


def translate_note(note: str) -> str:
    """``note`` in the active language where it is one of the system's
    sentences; otherwise as it was written."""
    if note in _FIXED:
        return _FIXED[note]()
    for pattern, render in _PATTERNS:
        match = pattern.match(note)
        if match:
            return render(match) or note
    return note
