"""The respectful-language checker: finds stigmatising words and suggests person-first ones.

The terms are data (``language_terms.json``, English, Arabic, Farsi, Russian and Chinese), after NIDA's "Words Matter"
and the INPUD/ANPUD "Words Matter!" guide. The checker runs
- in the contact form, over free-text notes (a warning, never a block);
- over the product (every template, every string marked for translation in the Python code,
  and every translation's msgstr) in the test suite and in ``salus language check``, where an
  ``avoid`` term fails.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TERMS_FILE = Path(__file__).with_name("language_terms.json")
# Files the checker reads when given a directory.
CHECKED_SUFFIXES = (".html", ".po", ".py", ".txt", ".md")
# Functions whose string arguments are user-facing text.
GETTEXT_NAMES = frozenset({
    "_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy", "gettext_noop",
})


@dataclass(frozen=True)
class Term:
    id: str
    lang: str
    # "avoid": stigmatising, never in the product; "consider": a better word usually exists.
    level: str
    pattern: re.Pattern
    alternatives: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Finding:
    term: Term
    text: str
    # 1-based line of the match in the checked text.
    line: int
    start: int
    end: int

    def as_dict(self) -> dict:
        return {
            "term": self.term.id, "text": self.text, "level": self.term.level, "line": self.line,
            "start": self.start, "end": self.end, "alternatives": list(self.term.alternatives),
            "source": self.term.source,
        }


# Languages written without spaces between words: a term matches anywhere in the text, since a
# word boundary there would only ever match at the edges of a whole sentence.
UNSPACED = ("zh", "ja")


def _compile(pattern: str, lang: str = "en") -> re.Pattern:
    # Word boundaries that also hold for Arabic and Cyrillic letters; spaces in a term match any
    # whitespace run (a phrase broken across lines still matches).
    body = pattern.replace(" ", r"[\s\-]+")
    if lang.split("-")[0].split("_")[0] in UNSPACED:
        return re.compile(body, re.IGNORECASE | re.UNICODE)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE | re.UNICODE)


@lru_cache(maxsize=1)
def terms() -> tuple[Term, ...]:
    """Every term of ``language_terms.json``."""
    data = json.loads(TERMS_FILE.read_text(encoding="utf-8"))
    return tuple(
        Term(
            id=t["id"], lang=t["lang"], level=t["level"], pattern=_compile(t["pattern"], t["lang"]),
            alternatives=tuple(t["alternatives"]), source=t["source"],
        )
        for t in data["terms"]
    )


def check_text(text: str, levels: tuple[str, ...] = ("avoid", "consider")) -> list[Finding]:
    """Every match of a term of a level in ``levels`` in ``text``, in reading order."""
    found = []
    for term in terms():
        if term.level not in levels:
            continue
        for m in term.pattern.finditer(text or ""):
            line = text.count("\n", 0, m.start()) + 1
            found.append(Finding(term=term, text=m.group(0), line=line, start=m.start(), end=m.end()))
    found.sort(key=lambda f: (f.start, -f.end))
    # A shorter term inside a longer match ("addict" in "drug addict") is one finding.
    kept: list[Finding] = []
    for f in found:
        if kept and f.start < kept[-1].end:
            continue
        kept.append(f)
    return kept


def _po_text(path: Path) -> str:
    """The translations (msgstr) of a .po file, each on the line where it stands, so that
    findings point to the right line; msgids are English source strings checked elsewhere."""
    import polib

    lines = path.read_text(encoding="utf-8").count("\n") + 1
    out = [""] * (lines + 1)
    for entry in polib.pofile(str(path)):
        strings = [entry.msgstr, *entry.msgstr_plural.values()] if entry.msgstr_plural else [entry.msgstr]
        line = max(entry.linenum - 1, 0)
        out[min(line, lines)] += " " + " ".join(s for s in strings if s)
    return "\n".join(out)


def _py_text(path: Path) -> str:
    """The strings marked for translation in a Python file (``_("...")``, ``gettext_lazy``...),
    each on its own line number; code, comments and other strings are not user-facing."""
    import ast

    source = path.read_text(encoding="utf-8", errors="replace")
    out = [""] * (source.count("\n") + 2)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
        if name not in GETTEXT_NAMES:
            continue
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out[arg.lineno - 1] += " " + arg.value.replace("\n", " ")
    return "\n".join(out)


def check_file(path: Path, levels: tuple[str, ...] = ("avoid", "consider")) -> list[Finding]:
    path = Path(path)
    if path.suffix == ".po":
        text = _po_text(path)
    elif path.suffix == ".py":
        text = _py_text(path)
    else:
        text = path.read_text(encoding="utf-8", errors="replace")
    return check_text(text, levels)


def product_files(root: Path) -> list[Path]:
    """Every template (*.html), Python module (its translatable strings) and translation (*.po)
    under ``root`` (the salus package)."""
    return sorted([*root.rglob("*.html"), *root.rglob("*.py"), *root.rglob("*.po")])


def iter_paths(paths: list[Path]) -> list[Path]:
    files = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in CHECKED_SUFFIXES)
        elif p.is_file():
            files.append(p)
    return files
