"""Sub-commands of this package (registered in salus.cli.COMMAND_MODULES): ``salus language check``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(reg) -> None:
    """Add this package's parsers to ``reg`` (a salus.cli.Registry)."""
    lang = reg.top.add_parser("language", help="Respectful, person-first language")
    sub = lang.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser(
        "check",
        help="Find stigmatising words (e.g. 'addict', 'clean/dirty') and suggest person-first ones",
        description="Checks the given files or folders (default: every template and translation of "
        "Salus). Exits 1 if a term to avoid is found.",
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    p.add_argument("--all", action="store_true", help="Also list 'consider' terms (never fail on them)")
    p.set_defaults(func=cmd_language_check)


def cmd_language_check(args: argparse.Namespace) -> int:
    from salus.care import language

    if args.paths:
        missing = [str(p) for p in args.paths if not p.exists()]
        if missing:
            print(f"no such file or folder: {', '.join(missing)}", file=sys.stderr)
            return 2
        files = language.iter_paths(args.paths)
    else:
        files = language.product_files(Path(__file__).resolve().parent.parent)
    levels = ("avoid", "consider") if args.all else ("avoid",)
    failed = 0
    for path in files:
        for f in language.check_file(path, levels):
            failed += f.term.level == "avoid"
            alts = " / ".join(f.term.alternatives)
            print(f"{path}:{f.line}: [{f.term.level}] '{f.text}' -> {alts} ({f.term.source})")
    print(f"checked {len(files)} file(s); {failed} term(s) to avoid", file=sys.stderr)
    return 1 if failed else 0
