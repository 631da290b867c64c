"""Sub-commands of this package (registered in salus.cli.COMMAND_MODULES).

- ``salus indicators --period P [--area PATH | --site CODE] [--as-of DATE] [--format table|json|csv]``
- ``salus export dhis2 --period P --format json|adx --mapping FILE [--area PATH | --site CODE] --out FILE``
- ``salus export indicators --period P [--area PATH | --site CODE] --out FILE.csv``

Output is small-cell suppressed (program threshold). ``salus indicators --unsuppressed`` shows
exact small counts on the operator's own screen; files written by ``salus export`` are always
suppressed. The JSON format is documented in docs/indicators.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from None


def _period(text: str) -> str:
    from salus.indicators.periods import PeriodError, parse_period

    try:
        return parse_period(text).label
    except PeriodError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _scope_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--area", metavar="PATH", help="An area path (e.g. XL/NORTH) or unique area code; default the whole program")
    g.add_argument("--site", metavar="CODE", help="A site code")


def register(reg) -> None:
    """Add this package's parsers to ``reg`` (a salus.cli.Registry)."""
    p = reg.top.add_parser("indicators", help="Compute the indicator catalogue for a period")
    p.add_argument("--period", required=True, type=_period, help="2025, 2025Q1, 2025-03 or 202503")
    _scope_args(p)
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="Closes the OST retention cohort (default today)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--codes", metavar="CODE,...", help="Only these indicator codes")
    p.add_argument("--totals", action="store_true", help="Totals only, no disaggregation")
    p.add_argument("--unsuppressed", action="store_true",
                   help="Show small counts exactly (for the operator's screen only)")
    p.set_defaults(func=cmd_indicators)

    p = reg.export_kinds.add_parser("dhis2", help="Indicators as DHIS2 dataValueSets JSON or ADX XML (suppressed)")
    p.add_argument("--period", required=True, type=_period)
    p.add_argument("--format", choices=("json", "adx"), required=True)
    p.add_argument("--mapping", required=True, metavar="FILE", help="Mapping file (see docs/exports.md)")
    _scope_args(p)
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD")
    p.add_argument("--out", required=True, metavar="FILE")
    p.set_defaults(func=cmd_export_dhis2)

    p = reg.export_kinds.add_parser("indicators", help="Every indicator cell as CSV (suppressed)")
    p.add_argument("--period", required=True, type=_period)
    _scope_args(p)
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD")
    p.add_argument("--out", required=True, metavar="FILE.csv")
    p.set_defaults(func=cmd_export_indicators)


def _rows(args, suppress: bool = True) -> list[dict]:
    from salus.indicators.engine import ScopeError, compute_indicators
    from salus.indicators.release import suppressed_indicators

    codes = [c.strip() for c in args.codes.split(",")] if getattr(args, "codes", None) else None
    compute = suppressed_indicators if suppress else compute_indicators
    try:
        return compute(
            args.period, area=args.area, site=args.site, as_of=args.as_of, codes=codes,
            disaggregate=not getattr(args, "totals", False),
        )
    except (ScopeError, KeyError) as exc:
        raise SystemExit(f"salus: {exc.args[0] if exc.args else exc}") from None


def _fmt(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "proportion" and isinstance(value, float):
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _cell_text(dis: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in dis.items()) or "total"


def print_table(rows: list[dict], out=None) -> None:
    out = out or sys.stdout
    headers = ("code", "cell", "value", "programme", "numerator", "denominator", "level")
    table = [headers]
    notes = []
    for r in rows:
        table.append((
            r["code"], _cell_text(r["disaggregation"]), _fmt(r["value"], r["kind"]),
            _fmt(r["programme_value"], r["kind"]), _fmt(r["numerator"], "count"),
            _fmt(r["denominator"], "count"), r["level"] or "",
        ))
        if not r["disaggregation"] and r["note"]:
            notes.append(f"{r['code']}: {r['note']}")
    widths = [max(len(str(row[i])) for row in table) for i in range(len(headers))]
    for row in table:
        out.write("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    if notes:
        out.write("\nNotes:\n" + "".join(f"  {n}\n" for n in notes))


def cmd_indicators(args: argparse.Namespace) -> int:
    rows = _rows(args, suppress=not args.unsuppressed)
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    elif args.format == "csv":
        from salus.indicators.exports.csvfile import write_csv

        write_csv(rows, sys.stdout)
    else:
        print_table(rows)
    return 0


def _open_private(path: str, binary: bool = False):
    """Create ``path`` readable by its owner only (aggregates still describe a program)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def _export(args: argparse.Namespace, fmt: str, mapping_file: str | None = None):
    """Make the file through salus.indicators.exports (suppressed, audited as the command line)
    and write it owner-only to ``args.out``; None (after saying why) when it cannot be made."""
    from salus.indicators.engine import ScopeError
    from salus.indicators.exports import ExportError, do_export_indicators

    try:
        export = do_export_indicators("cli", fmt, args.period, area=args.area, site=args.site,
                                      as_of=args.as_of, mapping_file=mapping_file)
    except (ExportError, ScopeError) as exc:
        print(f"salus: {exc}", file=sys.stderr)
        return None
    with _open_private(args.out, binary=True) as f:
        f.write(export.data)
    return export


def cmd_export_indicators(args: argparse.Namespace) -> int:
    export = _export(args, "csv")
    if export is None:
        return 2
    print(f"wrote {export.written} indicator cells to {args.out} ({export.hidden} with small numbers hidden)")
    return 0


def cmd_export_dhis2(args: argparse.Namespace) -> int:
    export = _export(args, args.format, args.mapping)
    if export is None:
        return 2
    print(f"wrote {export.written} data values to {args.out}; {export.hidden} left out "
          "(hidden by small-cell suppression or not computable)")
    return 0
