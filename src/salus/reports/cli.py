"""Sub-commands of this package (registered in salus.cli.COMMAND_MODULES).

- ``salus prepare-pages --period P [--period P ...] [--area PATH | --site CODE]``: work out a
  period's suppressed indicators page, dashboard and printed report ahead of their readers.

A national program's suppressed pages take tens of seconds the first time (docs/indicators.md,
"Answers kept by the web app"). The web app keeps what it works out in files of the data
directory, shared by the server's processes, so this command, run from cron before a working
day, lets the first reader of each page have it in seconds.
"""

from __future__ import annotations

import argparse
import time


def register(reg) -> None:
    """Add this package's parsers to ``reg`` (a salus.cli.Registry)."""
    from salus.indicators.cli import _period, _scope_args

    p = reg.top.add_parser(
        "prepare-pages",
        help="Work out a period's suppressed indicators page, dashboard and report ahead of their readers",
    )
    p.add_argument("--period", required=True, action="append", type=_period,
                   help="2025, 2025Q1, 2025-03 or 202503; repeat for several")
    _scope_args(p)
    p.set_defaults(func=cmd_prepare_pages)


def cmd_prepare_pages(args: argparse.Namespace) -> int:
    from salus.core.kept import shared_between_processes
    from salus.indicators import engine
    from salus.indicators.periods import parse_period
    from salus.reports import dashboard
    from salus.reports.scope import Scope
    from salus.reports.tables import compute_cells

    if not shared_between_processes():
        print("salus: the cache is not shared with the server (settings.CACHES): nothing to prepare")
        return 2
    try:
        place = engine.Scope(area=args.area, site=args.site)  # as `salus indicators` reads them
    except engine.ScopeError as exc:
        raise SystemExit(f"salus: {exc}") from None
    for period in args.period:
        scope = Scope(period=parse_period(period), period_text=period, area=place.area, site=place.site)
        started = time.perf_counter()
        cells = compute_cells(scope, suppress=True)  # the indicators page and the report's tables
        dashboard.build(scope, suppress=True)  # the dashboard
        dashboard.build(scope, suppress=True, cells=cells)  # the report's charts
        hidden = sum(1 for c in cells if c.get("suppressed"))
        print(f"{period} {scope.place_label}: prepared in {time.perf_counter() - started:.1f} s "
              f"({hidden} of {len(cells)} cells hidden)")
    return 0
