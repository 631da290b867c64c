"""The Arabic catalogue covers the staff web app, and no translation breaks a placeholder."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.utils import translation

import salus

LOCALE = Path(salus.__file__).parent / "locale"
AR_PO = LOCALE / "ar" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
# The web app's own screens; nav.py is left out because other packages append entries to it.
WEB_SOURCES = ("web/templates/", "web/views/", "web/forms.py")


@pytest.fixture(scope="module")
def catalogue():
    return polib.pofile(str(AR_PO))


def test_it_translates_every_string_of_the_web_app(catalogue):
    missing = [
        e.msgid for e in catalogue
        if any(path.startswith(WEB_SOURCES) for path, _line in e.occurrences) and not e.translated()
    ]
    assert missing == []


def test_it_keeps_placeholders_in_translations(catalogue):
    broken = []
    for e in catalogue.translated_entries():
        wanted = set(PLACEHOLDER.findall(e.msgid))
        if e.msgid_plural:
            # Singular forms may spell out "one" instead of the number.
            forms = e.msgstr_plural.values()
            if any(set(PLACEHOLDER.findall(f)) - wanted for f in forms):
                broken.append(e.msgid)
        elif set(PLACEHOLDER.findall(e.msgstr)) != wanted:
            broken.append(e.msgid)
    assert broken == []


def test_it_ships_a_compiled_catalogue_in_step_with_the_po(catalogue):
    compiled = {e.msgid: e.msgstr for e in polib.mofile(str(AR_PO.with_suffix(".mo"))) if not e.msgid_plural}
    stale = [e.msgid for e in catalogue.translated_entries() if not e.msgid_plural and compiled.get(e.msgid) != e.msgstr]
    assert stale == [], "run: .venv/bin/python scripts/i18n.py --compile"


def test_it_reads_the_compiled_catalogue_in_django():
    with translation.override("ar"):
        assert translation.gettext("Lock now") == "قفل الآن"
        assert translation.ngettext("%(n)s condom given", "%(n)s condoms given", 5) % {"n": 5} == "تسليم 5 واقيات ذكرية"
