"""Sub-commands of this package (registered in salus.cli.COMMAND_MODULES).

``salus import KIND FILE`` checks every row and imports all of them or none; problems are
printed one per line as ``line N, column X: what is wrong`` and the exit status is 1.
``salus export KIND FILE --user NAME`` writes individual records for an administrator.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from salus.transfer.registry import EXPORTERS, IMPORTERS


def register(reg) -> None:
    """Add this package's parsers to ``reg`` (a salus.cli.Registry)."""
    import importlib

    for kind, module_name in IMPORTERS.items():
        module = importlib.import_module(module_name)
        p = reg.import_kinds.add_parser(
            kind, help=module.HELP, description=f"{module.HELP}. Columns: {','.join(module.COLUMNS)}. "
            "All rows are imported or none (docs/import.md)."
        )
        p.add_argument("file", help="UTF-8 CSV file with a header row")
        p.add_argument("--user", metavar="NAME",
                       help="Import as this staff member (needs import.data; limited to their sites). "
                            "Default: the operator's shell, for every site")
        p.add_argument("--dry-run", action="store_true", help="Check the file and report; write nothing")
        p.set_defaults(func=cmd_import, kind=kind)
    for kind, module_name in EXPORTERS.items():
        module = importlib.import_module(module_name)
        p = reg.export_kinds.add_parser(kind, help=module.HELP, description=f"{module.HELP}. Columns: "
                                        f"{','.join(module.COLUMNS)}.")
        p.add_argument("file", help="CSV file to write (created with owner-only permissions)")
        p.add_argument("--user", metavar="NAME", required=True, help="The administrator exporting (audited)")
        p.add_argument("--from", dest="since", type=_date, metavar="YYYY-MM-DD", help="First date included")
        p.add_argument("--to", dest="until", type=_date, metavar="YYYY-MM-DD", help="Last date included")
        p.set_defaults(func=cmd_export, kind=kind)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from None


def _active_user(name: str):
    from salus.core.models import User

    return User.objects.filter(username=name, is_active=True).first()


def cmd_import(args: argparse.Namespace) -> int:
    from salus.core import access
    from salus.transfer.importing import run_import

    actor = "cli"
    if args.user:
        actor = _active_user(args.user)
        if actor is None:
            print(f"no active user named {args.user}", file=sys.stderr)
            return 2
        if not access.can(actor, "import.data"):
            print(f"{args.user} may not import data (needs import.data)", file=sys.stderr)
            return 2
    try:
        with open(args.file, "rb") as f:
            data = f.read()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    result = run_import(args.kind, data, actor, dry_run=args.dry_run)
    if not result.ok:
        for problem in result.problems:
            print(problem, file=sys.stderr)
        print(f"{len(result.problems)} problem(s) found; nothing was imported", file=sys.stderr)
        return 1
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.counts.items())
    verb = "checked (dry run, nothing written)" if args.dry_run else "imported"
    print(f"{args.kind} {verb}: {counts}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from salus.transfer.exporting import run_export

    user = _active_user(args.user)
    if user is None or user.role != "admin":
        print(f"{args.user} is not an active administrator; only administrators export individual records",
              file=sys.stderr)
        return 2
    n = run_export(args.kind, user, args.file, since=args.since, until=args.until)
    print(f"exported {n} {args.kind} row(s) to {args.file}")
    return 0
