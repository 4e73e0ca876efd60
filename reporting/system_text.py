"""The system's own sentences in the reader's language.

The services and the health checks write a timeline note or a system
report's description once, in English, when it happens (it is also the
webhooks' record). Those sentences follow a few fixed patterns; the report
page and the e-mails show them in the reader's language
(``translate_note``). Whatever a person wrote is shown as written.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

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
# Sentences with numbers or codes in them: the pattern's named groups fill
# the translated sentence's placeholders. The health checks' descriptions
# and their "cleared" notes (reporting/health/checks.py).
_TEMPLATED = [
    (r"Disconnected since (?P<since>.+?): more than (?P<minutes>\d+) minutes\.",
     gettext_noop("Disconnected since %(since)s: more than %(minutes)s minutes.")),
    (r"In error since (?P<since>.+?): more than (?P<minutes>\d+) minutes\. "
     r"Error code: (?P<code>.*?); vendor error code: (?P<vendor>.*?)\.",
     gettext_noop("In error since %(since)s: more than %(minutes)s minutes. Error code: %(code)s; vendor error code: "
        "%(vendor)s.")),
    (r"(?P<count>\d+) or more failed charges within the last (?P<minutes>\d+) minutes\.",
     gettext_noop("%(count)s or more failed charges within the last %(minutes)s minutes.")),
    (r"Wi-Fi signal below (?P<dbm>-?\d+) dBm in every reading of the last (?P<minutes>\d+) minutes "
     r"\(at least (?P<readings>\d+)\); latest (?P<latest>\S+) dBm\.",
     gettext_noop("Wi-Fi signal below %(dbm)s dBm in every reading of the last %(minutes)s minutes (at least "
        "%(readings)s); latest %(latest)s dBm.")),
    (r"Cellular signal below (?P<dbm>-?\d+) dBm in every reading of the last (?P<minutes>\d+) minutes "
     r"\(at least (?P<readings>\d+)\); latest (?P<latest>\S+) dBm\.",
     gettext_noop("Cellular signal below %(dbm)s dBm in every reading of the last %(minutes)s minutes (at least "
        "%(readings)s); latest %(latest)s dBm.")),
    (r"No failed charge in the last (?P<minutes>\d+) minutes\.",
     gettext_noop("No failed charge in the last %(minutes)s minutes.")),
    (r"Wi-Fi signal at or above (?P<dbm>-?\d+) dBm for (?P<minutes>\d+) minutes\.",
     gettext_noop("Wi-Fi signal at or above %(dbm)s dBm for %(minutes)s minutes.")),
    (r"Cellular signal at or above (?P<dbm>-?\d+) dBm for (?P<minutes>\d+) minutes\.",
     gettext_noop("Cellular signal at or above %(dbm)s dBm for %(minutes)s minutes.")),
]
_TEMPLATED = [(re.compile(f"^{pattern}$", re.S), msgid) for pattern, msgid in _TEMPLATED]


def _fill(match: re.Match, msgid: str) -> str:
    values = {name: gettext("none") if value == "none" else value for name, value in match.groupdict().items()}
    return gettext(msgid) % values


_FIXED = {
    "The charge point is back online.": lambda: gettext("The charge point is back online."),
    "The charge point is out of error.": lambda: gettext("The charge point is out of error."),
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
    for pattern, msgid in _TEMPLATED:
        match = pattern.match(note)
        if match:
            return _fill(match, msgid)
    return note
