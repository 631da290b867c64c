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

# Breakdowns, as the engine keys its disaggregations, in the order a table lists them.
DIMENSION_ORDER = ("sex", "age", "area", "site", "commodity")
DIMENSION_LABELS = {
    "sex": gettext_lazy("Sex"),
    "age": gettext_lazy("Age band"),
    "sex_age": gettext_lazy("Sex and age band"),
    "area": gettext_lazy("Area"),
    "site": gettext_lazy("Site"),
    "commodity": gettext_lazy("Commodity"),
    "site_commodity": gettext_lazy("Site and commodity"),
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
    that complementary suppression protects a small cell from being recovered by subtraction,
    and against the other periods of the year (salus.indicators.release).
    """
    from salus.indicators.engine import compute_indicators
    from salus.indicators.release import suppressed_indicators

    place = {"area": scope.area_path, "site": scope.site_code, "codes": list(codes) if codes else None,
             "disaggregate": disaggregate}
    if suppress:
        return suppressed_indicators(scope.period_text, **place,
                                     threshold=program_config().suppression_threshold, cached=True)
    return compute_indicators(scope.period_text, **place)


def is_suppressed_cell(cell: dict) -> bool:
    """Whether the suppression step hid any number of this cell (hidden numbers are None)."""
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
    """``value`` formatted; "suppressed" where suppression hid it (it is then None)."""
    if value is None and suppressed:
        return _("suppressed")
    return format_value(value, kind)


def _category(disaggregation: dict) -> tuple[str, str]:
    """The breakdown a disaggregation cell belongs to and its category label.

    Site cells carry their area too (so that an area is the sum of its sites); they belong to
    the site breakdown, labelled by site code alone.
    """
    dims = [d for d in DIMENSION_ORDER if d in disaggregation]
    dims += sorted(d for d in disaggregation if d not in DIMENSION_ORDER)
    if "site" in dims and "area" in dims:
        dims.remove("area")
    return "_".join(dims), " · ".join(str(disaggregation[d]) for d in dims)


def build_rows(cells: list[dict]) -> list[IndicatorRow]:
    """Table rows in catalogue order: one per indicator total, with its breakdowns attached."""
    totals: dict[str, dict] = {}
    parts: dict[str, list[dict]] = {}
    for c in cells:
        if c.get("disaggregation"):
            parts.setdefault(c["code"], []).append(c)
        else:
            totals[c["code"]] = c
    rows = []
    for ind in catalogue.catalogue():
        cell = totals.get(ind.code)
        if cell is None:
            continue
        hidden = is_suppressed_cell(cell)
        has_population = ind.population is not None
        # For indicators without a population-level denominator, ``value`` is the programme value.
        programme_value = cell.get("programme_value") if has_population else cell.get("value")
        row = IndicatorRow(
            code=ind.code,
            name=str(ind.name),
            definition=str(ind.definition),
            source=ind.source,
            kind=ind.kind,
            has_population=has_population,
            population=_shown(cell.get("value"), ind.kind, hidden) if has_population else "",
            programme=_shown(programme_value, ind.kind, hidden),
            pse_range=format_range(cell.get("value_low"), cell.get("value_high"), ind.kind),
            numerator=_shown(cell.get("numerator"), "count", hidden),
            denominator=_shown(cell.get("denominator"), "count", hidden),
            level=cell.get("level"),
            level_label=str(LEVEL_LABELS.get(cell.get("level") or "", "")),
            note=cell.get("note") or "",
            suppressed=hidden,
        )
        grouped: dict[str, Breakdown] = {}
        for part in parts.get(ind.code, []):
            dim, category = _category(part["disaggregation"])
            b = grouped.setdefault(dim, Breakdown(dim, str(DIMENSION_LABELS.get(dim, dim))))
            # Cells carry programme-level values only (population level is for the whole scope).
            shown = _shown(part.get("programme_value"), ind.kind, is_suppressed_cell(part)) or "—"
            b.cells.append((category, shown))
        order = list(DIMENSION_LABELS)
        row.breakdowns = sorted(grouped.values(), key=lambda b: order.index(b.dimension)
                                if b.dimension in order else len(order))
        rows.append(row)
    return rows
