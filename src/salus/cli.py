"""The ``salus`` command: one entry point for everything an operator or analyst does.

Sub-commands are registered by the domain packages listed in ``COMMAND_MODULES``; each has a
``register(registry)`` function that adds its parsers. Anything that is not a Salus command is
handed to Django's management commands, so ``salus migrate`` or ``salus shell`` work too.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import dataclass

# Every module that adds sub-commands, in the order they appear in --help.
COMMAND_MODULES: tuple[str, ...] = (
    "salus.core.cli",
    "salus.core.security_cli",
    "salus.transfer.cli",
    "salus.indicators.cli",
    "salus.reports.cli",
    "salus.model.cli",
    "salus.care.cli",
)


@dataclass
class Registry:
    """Where command modules hang their parsers."""

    top: argparse._SubParsersAction
    # ``salus import KIND`` and ``salus export KIND``: several packages add kinds.
    import_kinds: argparse._SubParsersAction
    export_kinds: argparse._SubParsersAction


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salus.settings")
    import django

    django.setup()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salus",
        description="Salus: information system for harm reduction programs.",
        epilog="Any Django management command works too, e.g. 'salus migrate'.",
    )
    top = parser.add_subparsers(dest="command", metavar="COMMAND")
    imp = top.add_parser("import", help="Import a CSV file (all or nothing)")
    exp = top.add_parser("export", help="Export data or indicators to a file")
    reg = Registry(
        top=top,
        import_kinds=imp.add_subparsers(dest="kind", metavar="KIND", required=True),
        export_kinds=exp.add_subparsers(dest="kind", metavar="KIND", required=True),
    )
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        if name == "salus.model.cli":
            module.register(top)
        else:
            module.register(reg)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    setup_django()
    parser = build_parser()
    # The commands' action (build_parser's add_subparsers): its choices map names to parsers.
    action = parser._subparsers._group_actions[0] if parser._subparsers else None
    known = set(action.choices) if isinstance(action, argparse._SubParsersAction) else set()
    if argv and not argv[0].startswith("-") and argv[0] not in known:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["salus", *argv])
        return 0
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        result = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (``salus indicators ... | head``): not an error of ours. Point
        # stdout at /dev/null so that Python's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
