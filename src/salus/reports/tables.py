"""Indicator cells from the engine, suppressed where the reader's role asks for it, as table rows.

No indicator arithmetic lives here: values come from salus.indicators.engine; this module only
chooses which cells a reader sees, applies small-cell suppression (salus.indicators.suppression)
and formats numbers for display.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salus.core import access
from salus.core.config import program_config
from salus.indicators import catalogue
from salus.reports.formatting import format_range, format_value

LEVEL_LABELS = {
    "low": gettext_lazy("Low"),
    "medium": gettext_lazy("Medium"),
    "high": gettext_lazy("High"),
}

# Names of the disaggregation dimensions, as the engine keys them.
DIMENSION_LABELS = {
    "sex": gettext_lazy("Sex"),
    "age": gettext_lazy("Age band"),
    "area": gettext_lazy("Area"),
    "site": gettext_lazy("Site"),
    "commodity": gettext_lazy("Commodity"),
}

# UNAIDS 2025 targets (UNAIDS Indicator Registry; docs/reports.md), in the indicator's unit.
# Shown on the coverage charts; the Technical Guide bands come from the catalogue.
TARGETS: dict[str, tuple[float, object]] = {
    "NSP_SYRINGES_PER_PWID": (200.0, gettext_lazy("UNAIDS 2025 target: more than 200")),
    "OST_COVERAGE": (0.5, gettext_lazy("UNAIDS 2025 target: 50%")),
}

# The coverage indicators the dashboard draws against their bands, in this order.
COVERAGE_CODES = ("NSP_SYRINGES_PER_PWID", "NSP_COVERAGE", "OST_COVERAGE", "HTS_PWID", "ART_PWID")


def is_suppressed_for(user) -> bool:
    """Whether ``user`` sees small cells suppressed (everyone without indicators.unsuppressed)."""
    return not access.can(user, "indicators.unsuppressed")


def compute_cells(scope, *, suppress: bool, codes=None, disaggregate: bool = True) -> list[dict]:
    """The engine's cells for ``scope``, with small-cell suppression applied when ``suppress``.

    Suppression runs on every cell of an indicator together (total and disaggregations), so
    that complementary suppression protects a small cell from being recovered by subtraction.
    """
    from salus.indicators.engine import compute_indicators

    cells = compute_indicators(
        scope.period_text,
        area=scope.area_path,
        site=scope.site_code,
        codes=list(codes) if codes else None,
        disaggregate=disaggregate,
    )
    if suppress:
        from salus.indicators.suppression import suppress_groups

        cells = suppress_groups(cells, program_config().suppression_threshold)
    return cells


def is_suppressed_cell(cell: dict) -> bool:
    """Whether the suppression step hid this cell's value."""
    return bool(cell.get("suppressed"))


@dataclass
class Breakdown:
    dimension: str
    label: str
    cells: list[tuple[str, str]] = field(default_factory=list)  # (category, shown value)


@dataclass
class IndicatorRow:
    """One indicator's total for the table, formatted.

    ``population`` and ``programme`` are the two denominators' values side by side (WHO 2022);
    ``population`` is "" for indicators without a population-level denominator.
    """

    code: str
    name: str
    definition: str
    source: str
    kind: str
    has_population: bool
    population: str
    programme: str
    pse_range: str
    numerator: str
    denominator: str
    level: str | None
    level_label: str
    note: str
    suppressed: bool
    breakdowns: list[Breakdown] = field(default_factory=list)


def _shown(value, kind: str, suppressed: bool) -> str:
    if suppressed:
        return _("suppressed")
    return format_value(value, kind)


def _category(disaggregation: dict) -> tuple[str, str]:
    """The dimension a disaggregation cell belongs to and its category label.

    Site cells carry their area too (so an area is the sum of its sites); such a cell belongs
    to the site dimension.
    """
    for dim in ("site", "commodity", "sex", "age", "area"):
        if dim in disaggregation:
            if dim == "commodity" and "site" in disaggregation:
                return "site", f"{disaggregation['site']} · {disaggregation['commodity']}"
            return dim, str(disaggregation[dim])
    key = next(iter(disaggregation))
    return key, str(disaggregation[key])


def build_rows(cells: list[dict]) -> list[IndicatorRow]:
    """Table rows in catalogue order: one per indicator total, with its breakdowns attached."""
    totals: dict[str, dict] = {}
    parts: dict[str, list[dict]] = {}
    for cell in cells:
        if cell.get("disaggregation"):
            parts.setdefault(cell["code"], []).append(cell)
        else:
            totals[cell["code"]] = cell
    rows = []
    for ind in catalogue.catalogue():
        cell = totals.get(ind.code)
        if cell is None:
            continue
        hidden = is_suppressed_cell(cell)
        has_population = ind.population is not None
        value = None if hidden else cell.get("value")
        programme_value = None if hidden else cell.get("programme_value")
        row = IndicatorRow(
            code=ind.code,
            name=str(ind.name),
            definition=ind.definition,
            source=ind.source,
            kind=ind.kind,
            has_population=has_population,
            population=_shown(value, ind.kind, hidden) if has_population else "",
            programme=_shown(programme_value if has_population else cell.get("value"), ind.kind, hidden),
            pse_range="" if hidden else format_range(cell.get("value_low"), cell.get("value_high"), ind.kind),
            numerator=_shown(cell.get("numerator"), "count", hidden),
            denominator=_shown(cell.get("denominator"), "count", hidden),
            level=None if hidden else cell.get("level"),
            level_label=str(LEVEL_LABELS.get(cell.get("level"), "")) if not hidden else "",
            note=cell.get("note") or "",
            suppressed=hidden,
        )
        grouped: dict[str, Breakdown] = {}
        for part in parts.get(ind.code, []):
            dim, category = _category(part["disaggregation"])
            b = grouped.setdefault(dim, Breakdown(dim, str(DIMENSION_LABELS.get(dim, dim))))
            shown_value = part.get("value") if ind.kind == "count" else part.get("programme_value", part.get("value"))
            b.cells.append((category, _shown(shown_value, ind.kind, is_suppressed_cell(part))))
        row.breakdowns = [grouped[d] for d in ("sex", "age", "area", "site") if d in grouped] + [
            b for d, b in grouped.items() if d not in ("sex", "age", "area", "site")
        ]
        rows.append(row)
    return rows
