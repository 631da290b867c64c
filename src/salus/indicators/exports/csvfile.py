"""Every indicator cell as one CSV row (``salus export indicators``).

Columns: code, period, scope_area, scope_site (what was computed), sex, age, area, site,
commodity (the cell; blank for the total), then the numbers. Numbers keep full precision;
a hidden (suppressed) or undefined number is an empty field.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

CELL_DIMENSIONS = ("sex", "age", "area", "site", "commodity")
COLUMNS = (
    "code", "period", "scope_area", "scope_site", *CELL_DIMENSIONS, "value", "programme_value",
    "numerator", "denominator", "population_denominator", "value_low", "value_high", "level",
    "kind", "suppressed", "note",
)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv(rows: Iterable[dict], out: TextIO) -> int:
    """Write ``rows`` (engine rows, already suppressed) to ``out``; returns the number written."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    n = 0
    for r in rows:
        dis = r.get("disaggregation") or {}
        w.writerow([
            r["code"], r["period"], _cell(r.get("area")), _cell(r.get("site")),
            *(_cell(dis.get(d)) for d in CELL_DIMENSIONS),
            *(_cell(r.get(k)) for k in ("value", "programme_value", "numerator", "denominator",
                                         "population_denominator", "value_low", "value_high", "level",
                                         "kind", "suppressed", "note")),
        ])
        n += 1
    return n
