"""Extract and compile Salus's translations.

Usage (from the repository root)::

    .venv/bin/python scripts/i18n.py            # makemessages for every language, then compile
    .venv/bin/python scripts/i18n.py --compile  # only compile .po -> .mo

Extraction runs Django's ``makemessages`` (needs GNU gettext's xgettext at development time).
Compilation uses polib, so building the .mo files needs no system gettext at all; the .mo files
are committed so that a deployment never compiles anything.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "salus"
LOCALE = PACKAGE / "locale"
# Locale directory names (zh_Hans is Django's name for zh-hans); English is the source language.
LANGUAGES = ("ar", "fa", "ru", "zh_Hans")


def make_messages() -> None:
    """Update every language's django.po from the source tree, keeping existing translations."""
    LOCALE.mkdir(exist_ok=True)
    django_admin = Path(sys.executable).with_name("django-admin")
    cmd = [str(django_admin), "makemessages", "--no-obsolete", "--ignore=.venv/*", "--ignore=static/*"]
    for lang in LANGUAGES:
        cmd += ["-l", lang]
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="salus.test_settings", PYTHONPATH=str(ROOT / "src"))
    subprocess.run(cmd, cwd=PACKAGE, env=env, check=True)


def compile_messages() -> list[Path]:
    """Write a .mo next to every .po under the locale directory; return the files written."""
    written = []
    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        po = polib.pofile(str(po_path))
        mo_path = po_path.with_suffix(".mo")
        po.save_as_mofile(str(mo_path))
        written.append(mo_path)
        print(f"{po_path.relative_to(ROOT)}: {po.percent_translated()}% translated")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compile", action="store_true", help="only compile the .po files")
    args = parser.parse_args(argv)
    if not args.compile:
        make_messages()
    compile_messages()
    return 0


if __name__ == "__main__":
    sys.exit(main())
