"""Population size estimates (PSE): the denominators of coverage indicators.

Columns: ``area,population,year,estimate,low,high,method,source``. The area must exist (its
path, or a bare code that is unique). Importing an estimate for an area, population and year
that is already recorded replaces it: a newer file corrects an older one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from salus.core.actions import AreaPathError, find_area
from salus.core.models import Area, PopulationSizeEstimate
from salus.transfer import cells
from salus.transfer.csvfile import ProblemList, Table
from salus.transfer.importing import ImportContext

COLUMNS = ("area", "population", "year", "estimate", "low", "high", "method", "source")
HELP = "Population size estimates per area, population and year"


@dataclass
class EstimateRow:
    line: int
    area: Area
    population: str
    year: int
    estimate: int
    low: int | None
    high: int | None
    method: str
    source: str


def parse(table: Table, ctx: ImportContext, problems: ProblemList) -> list[EstimateRow]:
    from salus.transfer.importers.contacts import program_today

    this_year = program_today().year
    areas: dict[str, Area | AreaPathError] = {}
    seen: dict[tuple, int] = {}
    out = []
    for line, v in table.rows:
        ok = True
        path = v[0].strip()
        area = areas.get(path)
        if area is None:
            try:
                area = find_area(path)
            except AreaPathError as exc:
                area = exc
            areas[path] = area
        if isinstance(area, AreaPathError):
            problems.add(line, "area", str(area))
            ok = False
        values: dict[str, str] = {}
        numbers: dict[str, int | None] = {}
        try:
            values["population"] = cells.choice(v[1], PopulationSizeEstimate.Population.values, blank_ok=False)
        except cells.CellError as exc:
            problems.add(line, "population", str(exc))
            ok = False
        for i, name, blank_ok in ((2, "year", False), (3, "estimate", False), (4, "low", True), (5, "high", True)):
            try:
                numbers[name] = cells.positive_int(v[i], blank_ok=blank_ok)
            except cells.CellError as exc:
                problems.add(line, name, str(exc))
                ok = False
        year = numbers.get("year")
        if year is not None and not 1980 <= year <= this_year + 5:
            problems.add(line, "year", _("%(value)s is not a plausible year") % {"value": year})
            ok = False
        est, low, high = numbers.get("estimate"), numbers.get("low"), numbers.get("high")
        if est is not None and low is not None and low > est:
            problems.add(line, "low", _("the low bound is above the estimate"))
            ok = False
        if est is not None and high is not None and high < est:
            problems.add(line, "high", _("the high bound is below the estimate"))
            ok = False
        for i, name, length in ((6, "method", 200), (7, "source", 400)):
            try:
                values[name] = cells.text(v[i], max_length=length, required=False)
            except cells.CellError as exc:
                problems.add(line, name, str(exc))
                ok = False
        if not ok:
            continue
        # Every cell was read: the area was found, and the year and estimate are never blank.
        assert isinstance(area, Area) and year is not None and est is not None
        key = (area.pk, values["population"], year)
        if key in seen:
            problems.add(line, "year", _("the same area, population and year is on line %(line)d too") % {"line": seen[key]})
            continue
        seen[key] = line
        out.append(EstimateRow(line, area, values["population"], year, est, low, high, values["method"], values["source"]))
    return out


def apply(ctx: ImportContext, rows: list[EstimateRow]) -> dict:
    return write_estimates(rows)


def write_estimates(rows: list[EstimateRow]) -> dict:
    """Create or replace each estimate. Runs in the caller's transaction; no audit row."""
    created = updated = 0
    for r in rows:
        _obj, was_created = PopulationSizeEstimate.objects.update_or_create(
            area=r.area, population=r.population, year=r.year,
            defaults={"estimate": r.estimate, "low": r.low, "high": r.high, "method": r.method, "source": r.source},
        )
        created += was_created
        updated += not was_created
    return {"estimates_created": created, "estimates_updated": updated}
