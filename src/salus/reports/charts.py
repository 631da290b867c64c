"""Charts drawn on the server as inline SVG (docs/decisions/0002-charts.md says why).

Every function returns a complete ``<svg>`` element as a SafeString. Text from callers is
escaped here. Charts use SVG presentation attributes only (``fill=""``, ``stroke=""``), never
``style=""``, so they render under the strict Content-Security-Policy, print as vectors and
need no script. Sizes are in SVG user units; the stylesheet scales the whole chart to the
width of its container, so a chart reads the same on a 360 px phone and on paper.

Values arrive already suppressed (None where a cell is suppressed or has no value): a chart
never sees a number the reader may not see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

# Level colours: the same three the tables use (reports.css), dark enough for white text.
LEVEL_COLOURS = {"low": "#b03a2e", "medium": "#8a5a00", "high": "#1e8449"}
# Lighter tints of the level colours for the band zones behind a coverage bar.
LEVEL_TINTS = {"low": "#f5d5d1", "medium": "#f9e5c4", "high": "#d0ecd9"}
BAR_COLOUR = "#1f4e79"
# Lighter than BAR_COLOUR so the black PSE-range whisker stays visible on top of it.
COVERAGE_BAR_COLOUR = "#5b8fc7"
AXIS_COLOUR = "#6b6b6b"
GRID_COLOUR = "#dddddd"
FONT = "system-ui, sans-serif"


@dataclass(frozen=True)
class TrendPoint:
    """One bar of a trend chart.

    Args:
        label: short axis label (e.g. a month abbreviation), already translated.
        title: full label for the hover text (e.g. "March 2025"), already translated.
        value: the number to draw, or None when there is none to show.
        shown: the value as the reader sees it (formatted, or "suppressed").
    """

    label: str
    title: str
    value: float | None
    shown: str


@dataclass(frozen=True)
class Bands:
    """Coverage bands of one indicator: below ``low_below`` is low, above ``high_above`` high.

    A value equal to ``low_below`` is medium (the lower bound belongs to its band), a value
    equal to ``high_above`` is still medium ("high" is strictly above the medium range).
    """

    low_below: float
    high_above: float


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ ``value`` (1 for zero or less)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude + 1e-12:
            return step * magnitude
    return 10 * magnitude


def nice_step(span: float, ticks: int = 4, *, whole: bool = False) -> float:
    """A round tick interval (1, 2, 2.5 or 5 × 10^k) giving about ``ticks`` intervals over
    ``span``; at least 1 when ``whole`` (counts have no fractional ticks)."""
    step = nice_ceiling(span / ticks) if span > 0 else 1.0
    return max(step, 1.0) if whole else step


def axis_max(top: float, step: float) -> float:
    """The first multiple of ``step`` at or above ``top`` (one step for zero)."""
    return max(step, math.ceil(top / step - 1e-9) * step)


def _num(v: float) -> str:
    """A coordinate with one decimal, without a trailing ``.0``."""
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _tick_label(v: float) -> str:
    if abs(v) >= 1_000_000:
        return f"{v / 1_000_000:g}M"
    if abs(v) >= 10_000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


def trend_bars(title: str, points: list[TrendPoint], *, missing_mark: str = "*") -> SafeString:
    """A bar chart of one measure by month.

    Args:
        title: what the bars count, already translated (used as the accessible name).
        points: one per month, oldest first.
        missing_mark: drawn at the baseline where a month has no value to show
            (the page's legend explains it).

    Returns:
        An ``<svg>`` 400 user units wide (180 high, 200 with slanted labels), one
        ``<rect class="bar">`` per month with a value.
    """
    # Month names longer than an abbreviation (Arabic has none) are turned to fit under a bar.
    slanted = max((len(p.label) for p in points), default=0) > 4
    width, height = 400, 200 if slanted else 180
    left, right, top, bottom = 44, 8, 12, 48 if slanted else 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [p.value for p in points if p.value is not None]
    step = nice_step(max(values, default=0), whole=True)
    y_max = axis_max(max(values, default=0), step)
    n = max(len(points), 1)
    slot = plot_w / n
    bar_w = slot * 0.7

    def y(v: float) -> float:
        return top + plot_h - v / y_max * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-trend" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'direction="ltr" font-family="{FONT}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(round(y_max / step) + 1):
        v = step * i
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_num(y(v))}" y2="{_num(y(v))}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 5}" y="{_num(y(v) + 4)}" font-size="11" text-anchor="end" '
            f'fill="{AXIS_COLOUR}">{escape(_tick_label(v))}</text>'
        )
    for i, p in enumerate(points):
        cx = left + slot * i + slot / 2
        if slanted:
            ly = top + plot_h + 12
            out.append(
                f'<text x="{_num(cx)}" y="{ly}" font-size="10" text-anchor="end" '
                f'transform="rotate(-40 {_num(cx)} {ly})" fill="{AXIS_COLOUR}">{escape(p.label)}</text>'
            )
        else:
            out.append(
                f'<text x="{_num(cx)}" y="{height - 10}" font-size="10" text-anchor="middle" '
                f'fill="{AXIS_COLOUR}">{escape(p.label)}</text>'
            )
        if p.value is None:
            out.append(
                f'<text class="missing" x="{_num(cx)}" y="{_num(y(0) - 4)}" font-size="13" '
                f'text-anchor="middle" fill="{AXIS_COLOUR}"><title>{escape(p.title)}: '
                f"{escape(p.shown)}</title>{escape(missing_mark)}</text>"
            )
            continue
        bar_top = y(p.value)
        out.append(
            f'<rect class="bar" x="{_num(cx - bar_w / 2)}" y="{_num(bar_top)}" '
            f'width="{_num(bar_w)}" height="{_num(y(0) - bar_top)}" fill="{BAR_COLOUR}" '
            f'data-value="{p.value:g}"><title>{escape(p.title)}: {escape(p.shown)}</title></rect>'
        )
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{_num(y(0))}" y2="{_num(y(0))}" '
        f'stroke="{AXIS_COLOUR}" stroke-width="1"/>'
    )
    out.append("</svg>")
    return mark_safe("\n".join(out))


def coverage_bar(
    title: str,
    *,
    value: float | None,
    shown: str,
    range_low: float | None,
    range_high: float | None,
    range_shown: str,
    bands: Bands | None,
    band_labels: dict[str, str],
    scale_max: float,
    tick_step: float,
    tick_format,
    target: float | None = None,
    target_label: str = "",
) -> SafeString:
    """A horizontal bar of one coverage value against its bands, range and target.

    The band zones (low / medium / high) are tinted behind the bar; the bar is the
    population-level value; a whisker spans the values at the low and high population size
    estimates, so the uncertainty of the denominator is visible, not hidden behind one number;
    a dashed line marks the target.

    Args:
        title: the indicator's name, already translated.
        value: the population-level value, in the indicator's own unit (a fraction for
            proportions, syringes per person per year for NSP_SYRINGES_PER_PWID); None draws
            only the bands.
        shown: ``value`` as the reader sees it (formatted).
        range_low, range_high: the values at either end of the PSE range (either order), or None.
        range_shown: the range as the reader sees it.
        bands: where the bands change; None draws no zones.
        band_labels: the translated names of "low", "medium" and "high".
        scale_max: the right end of the axis, in the indicator's unit.
        tick_step: the interval between axis labels, in the same unit.
        tick_format: formats an axis value for its label (e.g. as a percentage).
        target: the target value, or None.
        target_label: the target's name (e.g. "UNAIDS 2025 target"), already translated.
    """
    width, height = 400, 96
    left, right = 10, 14
    bar_y, bar_h = 30, 22
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + max(0.0, min(v, scale_max)) / scale_max * plot_w

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-coverage" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}: {escape(shown)}" '
        f'direction="ltr" font-family="{FONT}">',
        f"<title>{escape(title)}: {escape(shown)}</title>",
    ]
    if bands is not None:
        zones = (("low", 0.0, bands.low_below), ("medium", bands.low_below, bands.high_above),
                 ("high", bands.high_above, scale_max))
        for level, start, end in zones:
            if end <= start:
                continue
            out.append(
                f'<rect class="band band-{level}" x="{_num(x(start))}" y="{bar_y - 12}" '
                f'width="{_num(x(end) - x(start))}" height="{bar_h + 24}" '
                f'fill="{LEVEL_TINTS[level]}"/>'
            )
            out.append(
                f'<text x="{_num((x(start) + x(end)) / 2)}" y="{bar_y - 2}" font-size="10" '
                f'text-anchor="middle" fill="{LEVEL_COLOURS[level]}">'
                f"{escape(band_labels[level])}</text>"
            )
    if value is not None:
        out.append(
            f'<rect class="bar value" x="{left}" y="{bar_y + 4}" width="{_num(x(value) - left)}" '
            f'height="{bar_h - 8}" fill="{COVERAGE_BAR_COLOUR}" data-value="{value:g}">'
            f"<title>{escape(title)}: {escape(shown)}</title></rect>"
        )
    if range_low is not None and range_high is not None:
        lo, hi = sorted((range_low, range_high))
        mid = bar_y + bar_h / 2
        out.append(
            f'<g class="whisker" stroke="#111111" stroke-width="2" data-low="{lo:g}" '
            f'data-high="{hi:g}"><title>{escape(range_shown)}</title>'
            f'<line x1="{_num(x(lo))}" x2="{_num(x(hi))}" y1="{_num(mid)}" y2="{_num(mid)}"/>'
            f'<line x1="{_num(x(lo))}" x2="{_num(x(lo))}" y1="{bar_y}" y2="{bar_y + bar_h}"/>'
            f'<line x1="{_num(x(hi))}" x2="{_num(x(hi))}" y1="{bar_y}" y2="{bar_y + bar_h}"/>'
            f"</g>"
        )
    if target is not None:
        out.append(
            f'<line class="target" x1="{_num(x(target))}" x2="{_num(x(target))}" '
            f'y1="{bar_y - 14}" y2="{bar_y + bar_h + 14}" stroke="#111111" stroke-width="2" '
            f'stroke-dasharray="4 3"><title>{escape(target_label)}</title></line>'
        )
    axis_y = bar_y + bar_h + 12
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{axis_y}" y2="{axis_y}" '
        f'stroke="{AXIS_COLOUR}" stroke-width="1"/>'
    )
    n_ticks = round(scale_max / tick_step)
    for i in range(n_ticks + 1):
        v = tick_step * i
        anchor = "start" if i == 0 else ("end" if i == n_ticks else "middle")
        out.append(
            f'<text x="{_num(x(v))}" y="{axis_y + 14}" font-size="11" text-anchor="{anchor}" '
            f'fill="{AXIS_COLOUR}">{escape(tick_format(v))}</text>'
        )
    out.append("</svg>")
    return mark_safe("\n".join(out))
