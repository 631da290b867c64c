"""What a dashboard shows: twelve months of trends and coverage against bands and targets.

Numbers come from the indicator engine (``monthly_trend`` and ``compute_indicators``); this
module picks them, suppresses them for readers who must not see small cells, and turns them
into charts (salus.reports.charts) and their text equivalents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salus.core.config import program_config
from salus.core.kept import kept
from salus.core.models import PopulationSizeEstimate
from salus.indicators import catalogue
from salus.indicators.periods import months_between, parse_period
from salus.reports import charts
from salus.reports.formatting import format_percent, format_range, format_value
from salus.reports.tables import (
    COVERAGE_CODES,
    LEVEL_LABELS,
    TARGETS,
    compute_cells,
    is_suppressed_cell,
)

# The measures drawn month by month, in this order, with the chart's heading. Each bar is the
# indicator's numerator: the count itself for counts, and for OST_COVERAGE the number of people
# on OST on the month's last day (its value would need a population size estimate).
TREND_MEASURES: tuple[tuple[str, object], ...] = (
    ("CLIENTS_REACHED", gettext_lazy("Clients reached")),
    ("NEW_CLIENTS", gettext_lazy("New clients")),
    ("SYRINGES_DISTRIBUTED", gettext_lazy("Needles-syringes distributed")),
    ("HIV_TESTS", gettext_lazy("HIV tests with a result given")),
    ("HCV_TESTS", gettext_lazy("Hepatitis C tests with a result given")),
    ("OST_COVERAGE", gettext_lazy("People on OST on the last day of the month")),
)
TREND_MONTHS = 12
# The twelve monthly computations are the slow part of a dashboard (seconds on the DuckDB
# runner); the engine's unsuppressed cells are kept this long in Django's cache, per place
# and window, and suppressed again for every reader. The page says figures may be this old.
TREND_CACHE_SECONDS = 600


@dataclass
class TrendChart:
    code: str
    title: str
    svg: str
    # (month label, shown value) for the table under the chart (screen readers, print).
    rows: list[tuple[str, str]]


@dataclass
class CoverageChart:
    code: str
    title: str
    svg: str
    shown: str
    range_shown: str
    level: str | None
    level_label: str
    target_label: str
    programme_shown: str
    note: str


def trend_window(period) -> tuple[str, str]:
    """The first and last month (``YYYY-MM``) of the twelve months ending with ``period``."""
    end = period.end
    months_back = end.year * 12 + (end.month - 1) - (TREND_MONTHS - 1)
    start = dt.date(months_back // 12, months_back % 12 + 1, 1)
    return f"{start:%Y-%m}", f"{end:%Y-%m}"


def _month_labels(month: str) -> tuple[str, str]:
    """("Mar", "March 2025") for ``2025-03``, in the reader's language."""
    day = dt.date(int(month[:4]), int(month[5:7]), 1)
    return formats.date_format(day, "M"), formats.date_format(day, "YEAR_MONTH_FORMAT")


def monthly_cells(codes: list[str], first: str, last: str, scope, *, disaggregate: bool) -> list[dict]:
    """The engine's unsuppressed cells for every month from ``first`` to ``last`` (YYYY-MM).

    From the engine's ``monthly_trend``. With ``disaggregate`` every month also carries its
    breakdown cells, as the indicators page gets them for that month: readers
    whose numbers are suppressed need them, because complementary suppression may hide a
    month's total to protect one of its cells, and the dashboard must hide it too. Cached for
    TREND_CACHE_SECONDS per place, window and kind.
    """
    from salus.indicators import engine

    key = "salus-reports-trend:" + ":".join(
        [first, last, scope.area_path or "", scope.site_code or "", str(disaggregate), *codes]
    )
    return kept(key, TREND_CACHE_SECONDS, lambda: engine.monthly_trend(
        codes, first, last, area=scope.area_path, site=scope.site_code, disaggregate=disaggregate))


def _suppressed(cells: list[dict], scope) -> list[dict]:
    """``cells`` (the engine's, of the scope's place) as the indicators page hides them: each
    period's own rules, and for counts that add up over time the pattern of the period's
    year (no month hidden here is a quarter there minus the months shown here)."""
    from salus.indicators.release import suppress_released

    return suppress_released(cells, area=scope.area_path, site=scope.site_code,
                             threshold=program_config().suppression_threshold, cached=True)


def trend_charts(scope, cells: list[dict]) -> list[TrendChart]:
    """One bar chart per measure for the twelve months ending with the scope's period, from
    ``cells`` (:func:`monthly_cells`, suppressed for readers whose numbers are)."""
    first, last = trend_window(scope.period)
    by_code: dict[str, dict[str, dict]] = {}
    for c in cells:
        if c.get("disaggregation"):
            continue
        by_code.setdefault(c["code"], {})[c["period"]] = c
    months = [m.label for m in months_between(parse_period(first), parse_period(last))]
    out = []
    for code, title in TREND_MEASURES:
        series = by_code.get(code, {})
        points, rows = [], []
        for month in months:
            short, long = _month_labels(month)
            cell = series.get(month)
            hidden = cell is not None and is_suppressed_cell(cell)
            value = None if cell is None or hidden else cell.get("numerator")
            if hidden:
                shown = _("suppressed")
            elif value is None:
                shown = _("no data")
            else:
                shown = format_value(value, "count")
            points.append(charts.TrendPoint(label=short, title=long, value=value, shown=shown))
            rows.append((long, shown))
        out.append(TrendChart(code, str(title), charts.trend_bars(str(title), points), rows))
    return out


def _axis(ind, values: list[float], target: float | None) -> tuple[float, float]:
    """(right end of the axis, tick interval): 0-100 % for proportions; otherwise room for
    the values, the target and half again the upper band."""
    if ind.kind == catalogue.PROPORTION:
        return 1.0, 0.25
    top = max([*values, target or 0.0, (ind.bands[1] * 1.5) if ind.bands else 0.0])
    step = charts.nice_step(top)
    return charts.axis_max(top, step), step


def coverage_charts(scope, totals: dict[str, dict]) -> list[CoverageChart]:
    """One bar per coverage indicator: population-level value, PSE range, bands and target."""
    overrides = program_config().coverage_bands
    band_labels = {k: str(v) for k, v in LEVEL_LABELS.items()}
    out = []
    for code in COVERAGE_CODES:
        ind = catalogue.get(code)
        cell = totals.get(code)
        if cell is None:
            continue
        hidden = is_suppressed_cell(cell)
        value = None if hidden else cell.get("value")
        lo = None if hidden else cell.get("value_low")
        hi = None if hidden else cell.get("value_high")
        bounds = catalogue.bands_for(code, overrides)
        target, target_label = TARGETS.get(code, (None, ""))
        shown = _("suppressed") if hidden else (format_value(value, ind.kind) or _("no value"))
        range_shown = format_range(lo, hi, ind.kind)
        if ind.kind == catalogue.PROPORTION:
            def tick(v):
                return format_percent(v, 0)
        else:
            def tick(v):
                return f"{v:g}"
        scale_max, tick_step = _axis(ind, [v for v in (value, lo, hi) if v is not None], target)
        # No population-level value (no PSE, a single site, or suppressed): no bar to draw, and
        # an empty axis would read as zero. The facts and the note under it say why.
        svg = "" if value is None else charts.coverage_bar(
            str(ind.name),
            value=value,
            shown=shown,
            range_low=lo,
            range_high=hi,
            range_shown=_("Range across the population size estimate: %(range)s") % {"range": range_shown}
            if range_shown else "",
            bands=charts.Bands(*bounds) if bounds else None,
            band_labels=band_labels,
            scale_max=scale_max,
            tick_step=tick_step,
            tick_format=tick,
            target=target,
            target_label=str(target_label),
        )
        level = None if hidden else cell.get("level")
        programme = None if hidden else cell.get("programme_value")
        out.append(
            CoverageChart(
                code=code,
                title=str(ind.name),
                svg=svg,
                shown=shown,
                range_shown=range_shown,
                level=level,
                level_label=str(LEVEL_LABELS.get(level or "", "")),
                target_label=str(target_label),
                programme_shown=_("suppressed") if hidden else format_value(programme, ind.kind),
                note=cell.get("note") or "",
            )
        )
    return out


def build(scope, *, suppress: bool, cells: list[dict] | None = None) -> dict:
    """The dashboard's context: ``trends`` and ``coverage`` charts for ``scope``.

    ``cells`` may carry the period's indicator cells already computed (the program report has
    them), so that the engine runs once per page.
    """
    first, last = trend_window(scope.period)
    # Suppressed readers need the breakdown cells too, so that a total hidden on the
    # indicators page (to protect one of its cells) is hidden here as well.
    months = monthly_cells([code for code, _title in TREND_MEASURES], first, last, scope, disaggregate=suppress)
    if cells is None and suppress:
        # The period's cells are suppressed with the months, in one pass: the year's pattern
        # they share is made once (a national program's takes seconds, its tables kept or not).
        period = compute_cells(scope, suppress=False, codes=COVERAGE_CODES, disaggregate=True)
        both = _suppressed(months + period, scope)
        months, cells = both[:len(months)], both[len(months):]
    elif cells is None:
        cells = compute_cells(scope, suppress=False, codes=COVERAGE_CODES, disaggregate=False)
    elif suppress:
        months = _suppressed(months, scope)
    totals = {c["code"]: c for c in cells if not c.get("disaggregation")}
    return {
        "trends": trend_charts(scope, months),
        "coverage": coverage_charts(scope, totals),
        "trend_first": _month_labels(first)[1],
        "trend_last": _month_labels(last)[1],
        "trend_cache_minutes": TREND_CACHE_SECONDS // 60,
    }


def population_estimates(scope) -> list[PopulationSizeEstimate]:
    """The population size estimates that can serve the scope's period: those of the calendar
    year in which the period ends, for the scope's area, the areas above it and below it
    (the whole program: every area). The engine decides which one a value uses; its note says."""
    year = scope.period.end.year
    qs = PopulationSizeEstimate.objects.filter(year=year).select_related("area")
    area = scope.area or (scope.site.area if scope.site else None)
    if area is not None:
        parts = area.path.split("/")
        ancestors = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        qs = qs.filter(Q(area__path__in=ancestors) | area.subtree_q("area__"))
    return list(qs.order_by("area__path", "population"))
