"""Files that carry indicators out of Salus: CSV, DHIS2 dataValueSets JSON and ADX XML.

Everything written here has been through small-cell suppression
(salus.indicators.suppression) with the program's threshold: no option turns it off.
:func:`do_export_indicators` is the one way a file is made, from the web app and from the
command line alike, and it writes the audit row.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

# Format name -> (file name ending, media type).
FORMATS = {
    "csv": (".csv", "text/csv; charset=utf-8"),
    "json": (".json", "application/json"),
    "adx": (".adx.xml", "application/adx+xml"),
}


class ExportError(ValueError):
    """The file cannot be made (the DHIS2 mapping does not fit); the message says why."""


@dataclass(frozen=True)
class Export:
    """A file ready to leave the system."""

    filename: str
    content_type: str
    data: bytes
    # Counts for the person exporting and for the audit row: cells or data values written,
    # and how many were hidden by suppression (or not computable, for DHIS2).
    written: int
    hidden: int
    detail: dict = field(default_factory=dict)


def suppressed_rows(period: str, area: str | None = None, site: str | None = None, as_of=None,
                    codes: list[str] | None = None, disaggregate: bool = True) -> list[dict]:
    """The engine's rows for the scope, small-cell suppressed with the program's threshold,
    against the other periods of the year too (salus.indicators.release)."""
    from salus.indicators.release import suppressed_indicators

    return suppressed_indicators(period, area=area, site=site, as_of=as_of, codes=codes,
                                 disaggregate=disaggregate)


def mapping_path() -> Path | None:
    """The program's DHIS2 mapping file (setting ``dhis2_mapping``), or None when it has none."""
    from django.conf import settings

    from salus.core.config import program_config

    name = program_config().dhis2_mapping
    if not name:
        return None
    path = Path(settings.SALUS_HOME) / name
    return path if path.is_file() else None


def file_name(fmt: str, period: str, area: str | None, site: str | None) -> str:
    """``salus-indicators-2025Q1-XL_NORTH.csv``: says what the file holds, safe on any disk."""
    kind = "salus-dhis2" if fmt in ("json", "adx") else "salus-indicators"
    place = re.sub(r"[^A-Za-z0-9]+", "_", site or area or "program").strip("_")
    return f"{kind}-{period}-{place}{FORMATS[fmt][0]}"


def build_export(fmt: str, period: str, *, area: str | None = None, site: str | None = None,
                 as_of: dt.date | None = None, mapping_file: str | Path | None = None) -> Export:
    """The ``fmt`` file (csv, json or adx) of the indicators of ``period`` for the program, an
    area or a site, suppressed. DHIS2 formats need ``mapping_file``.

    Raises ExportError when the mapping cannot be read or does not fit the place, and
    salus.indicators.engine.ScopeError for an unknown area or site.
    """
    from salus.indicators.engine import Scope
    from salus.indicators.exports import dhis2
    from salus.indicators.exports.csvfile import write_csv
    from salus.indicators.periods import parse_period

    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    chosen = parse_period(period)
    label = chosen.label
    name, content_type = file_name(fmt, label, area, site), FORMATS[fmt][1]
    if fmt == "csv":
        rows = suppressed_rows(label, area=area, site=site, as_of=as_of)
        out = io.StringIO()
        n = write_csv(rows, out)
        hidden = sum(1 for r in rows if r.get("suppressed"))
        return Export(name, content_type, out.getvalue().encode("utf-8"), n, hidden)
    if mapping_file is None:
        raise ExportError("a DHIS2 export needs a mapping file (docs/exports.md)")
    try:
        mapping = dhis2.load_mapping(mapping_file)
    except dhis2.MappingError as exc:
        raise ExportError(str(exc)) from None
    rows = suppressed_rows(label, area=area, site=site, as_of=as_of,
                           codes=sorted({r.indicator for r in mapping.rules}))
    scope = Scope(area=area, site=site)
    # The org unit of the scope's own cells: the site, the area, or the program's top area.
    top = scope.pse_area()
    scope_key = scope.site_code or scope.area_path or (top.path if top else "")
    result = dhis2.select(rows, mapping, scope_key)
    if result.problems:
        raise ExportError("; ".join(result.problems))
    try:
        if fmt == "json":
            data = dhis2.dumps_json(dhis2.data_value_set(result, mapping, chosen)).encode("utf-8")
        else:
            data = dhis2.adx_document(result, mapping, chosen)
    except dhis2.MappingError as exc:
        raise ExportError(str(exc)) from None
    return Export(name, content_type, data, len(result.items), result.left_out,
                  {"mapping": Path(mapping_file).name})


def do_export_indicators(actor, fmt: str, period: str, *, area: str | None = None, site: str | None = None,
                         as_of: dt.date | None = None, mapping_file: str | Path | None = None) -> Export:
    """:func:`build_export`, with an ``export.aggregate`` audit row naming who took which file.

    ``actor`` is a user (the web app; the caller has checked ``export.aggregate`` and the
    user's reach) or a string naming the command line.
    """
    export = build_export(fmt, period, area=area, site=site, as_of=as_of, mapping_file=mapping_file)
    _audit(actor, fmt, export.filename, period, area=area, site=site, as_of=as_of,
           written=export.written, hidden=export.hidden, **export.detail)
    return export


def do_release_rows(actor, period: str, *, area: str | None = None, site: str | None = None,
                    as_of: dt.date | None = None, totals: bool = False) -> list[dict]:
    """The suppressed rows (the JSON format of docs/indicators.md) of ``period`` and place for
    another system (the API), with the same ``export.aggregate`` audit row as a file."""
    rows = suppressed_rows(period, area=area, site=site, as_of=as_of, disaggregate=not totals)
    _audit(actor, "api", "api", period, area=area, site=site, as_of=as_of, written=len(rows),
           hidden=sum(1 for r in rows if r.get("suppressed")))
    return rows


def _audit(actor, fmt: str, name: str, period: str, *, area: str | None, site: str | None,
           as_of: dt.date | None, written: int, hidden: int, **extra) -> None:
    from salus.core import audit

    audit.record(
        actor, "export.aggregate", object_type="file" if fmt != "api" else "api", object_id=name[:64],
        site=site or "",
        detail={"format": fmt, "period": period, "area": area or "", "site": site or "",
                "as_of": as_of, "written": written, "hidden": hidden, **extra},
    )
