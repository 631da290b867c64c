"""Every shipped language is complete: a string added to the product without its translations
fails here, naming the language and the string.

1. Each catalogue translates every entry (no empty or fuzzy msgstr) and keeps placeholders.
2. Each catalogue holds every string of the current source: the source is extracted again
   (Django's makemessages on a copy of the package) and compared with the committed catalogue.
3. The compiled .mo files match their .po files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

import salus

PACKAGE = Path(salus.__file__).parent
LOCALE = PACKAGE / "locale"
SHIPPED = ("ar", "fa", "ru", "zh_Hans")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}")


def catalogue(lang: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("lang", SHIPPED)
def test_it_translates_every_string(lang):
    po = catalogue(lang)
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert missing == [], f"{lang}: {len(missing)} untranslated: {missing[:10]}; run scripts/i18n.py and translate"


@pytest.mark.parametrize("lang", SHIPPED)
def test_it_keeps_every_placeholder(lang):
    broken = []
    for e in catalogue(lang).translated_entries():
        wanted = set(PLACEHOLDER.findall(e.msgid))
        if e.msgid_plural:
            wanted |= set(PLACEHOLDER.findall(e.msgid_plural))
            # A singular form may spell the number out; no form may invent a placeholder.
            if any(set(PLACEHOLDER.findall(f)) - wanted for f in e.msgstr_plural.values()):
                broken.append(e.msgid)
        elif set(PLACEHOLDER.findall(e.msgstr)) != wanted:
            broken.append(e.msgid)
    assert broken == [], f"{lang}: placeholders differ in {broken[:10]}"


@pytest.mark.parametrize("lang", SHIPPED)
def test_it_ships_compiled_catalogues_in_step(lang):
    po = catalogue(lang)
    mo = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(LOCALE / lang / "LC_MESSAGES" / "django.mo"))}
    stale = [e.msgid for e in po.translated_entries() if not e.msgid_plural and mo.get((e.msgctxt, e.msgid)) != e.msgstr]
    assert stale == [], f"{lang}: .mo out of date; run: .venv/bin/python scripts/i18n.py --compile"


def _xgettext_available() -> bool:
    return shutil.which("xgettext") is not None


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[tuple[str | None, str]]:
    """The msgids of the current source, extracted into a scratch copy of the package."""
    if not _xgettext_available():
        if os.environ.get("CI") == "true":
            pytest.fail("GNU gettext (xgettext) is needed to check the catalogues against the source")
        pytest.skip("GNU gettext (xgettext) is not installed: apt-get install gettext")
    work = tmp_path_factory.mktemp("extract") / "salus"
    shutil.copytree(PACKAGE, work, ignore=shutil.ignore_patterns("static", "__pycache__", "*.mo", "*.po"))
    (work / "locale" / "en" / "LC_MESSAGES").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="salus.test_settings")
    admin = Path(sys.executable).with_name("django-admin")
    subprocess.run(
        [str(admin), "makemessages", "-l", "en", "--no-obsolete", "--no-location"],
        cwd=work, env=env, check=True, capture_output=True,
    )
    po = polib.pofile(str(work / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    return {(e.msgctxt, e.msgid) for e in po}


@pytest.mark.parametrize("lang", SHIPPED)
def test_it_holds_every_string_of_the_source(lang, extracted):
    have = {(e.msgctxt, e.msgid) for e in catalogue(lang) if not e.obsolete}
    missing = sorted(m for _c, m in extracted - have)
    assert missing == [], f"{lang}: {len(missing)} strings not in the catalogue: {missing[:10]}; run scripts/i18n.py"


@pytest.mark.parametrize("lang", SHIPPED)
def test_it_passes_gettexts_own_format_check(lang):
    """``msgfmt --check-format`` agrees: a literal "%" that xgettext mistakes for a placeholder
    (e.g. "95 % interval", read as "% i") must carry a no-python-format marker in the source."""
    if shutil.which("msgfmt") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("GNU gettext (msgfmt) is needed to check the catalogues")
        pytest.skip("GNU gettext (msgfmt) is not installed: apt-get install gettext")
    po = LOCALE / lang / "LC_MESSAGES" / "django.po"
    result = subprocess.run(["msgfmt", "--check-format", "-o", os.devnull, str(po)], capture_output=True, text=True)
    assert result.returncode == 0, f"{lang}: {result.stderr.strip()[:2000]}"
