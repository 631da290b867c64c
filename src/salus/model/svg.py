"""Small hand-written SVG charts (no plotting dependency, no script, no external assets).

Charts use presentation attributes only (no style attributes), so they render under a strict
Content Security Policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 700, 300
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 210, 36, 40
LEGEND_CHARS = 30  # longer series names are shortened; the full name is in a tooltip
PALETTE = ("#1b6ca8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#555555")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** int(f"{value:e}".split("e")[1])
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _shorten(label: str) -> str:
    return label if len(label) <= LEGEND_CHARS else label[: LEGEND_CHARS - 1] + "\u2026"


def _fmt(v: float) -> str:
    if abs(v) >= 1e6:
        return f"{v / 1e6:.3g}M"
    if abs(v) >= 1e3:
        return f"{v / 1e3:.3g}k"
    return f"{v:.3g}"


def line_chart(
    title: str,
    x: Sequence[float],
    series: Sequence[dict],
    y_label: str = "",
    points: Sequence[dict] | None = None,
    points_label: str = "",
) -> str:
    """An SVG line chart.

    Args:
        title: chart title (already translated).
        x: shared x values (years).
        series: ``{"label", "values", optional "low", "high"}``; low/high draw a band.
        y_label: unit of the y axis.
        points: observations ``{"x", "value", optional "low", "high", "series"}`` drawn as
            dots with error bars in the colour of series index ``series``.
        points_label: legend text for the observations (already translated).
    """
    points = points or []
    ys = [v for s in series for v in (s.get("high") or s["values"])]
    ys += [p.get("high", p["value"]) for p in points]
    y_max = _nice_max(max([*ys, 0.0]))
    x_min, x_max = min(x), max(x)
    if x_max == x_min:
        x_max = x_min + 1
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def px(v):
        return MARGIN_LEFT + (v - x_min) / (x_max - x_min) * plot_w

    def py(v):
        return MARGIN_TOP + plot_h - v / y_max * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{MARGIN_LEFT}" y="20" font-size="14" font-family="sans-serif" '
        f'font-weight="bold">{escape(title)}</text>',
    ]
    for i in range(5):
        v = y_max * i / 4
        out.append(
            f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_w}" y1="{py(v):.1f}" '
            f'y2="{py(v):.1f}" stroke="#dddddd"/>'
        )
        out.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{py(v) + 4:.1f}" font-size="11" '
            f'text-anchor="end" font-family="sans-serif">{_fmt(v)}</text>'
        )
    for v in sorted({x_min, x_max, x_min + (x_max - x_min) // 2}):
        out.append(
            f'<text x="{px(v):.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}" font-size="11" '
            f'text-anchor="middle" font-family="sans-serif">{int(v)}</text>'
        )
    if y_label:
        out.append(
            f'<text x="14" y="{MARGIN_TOP + plot_h / 2:.0f}" font-size="11" '
            f'font-family="sans-serif" transform="rotate(-90 14 '
            f'{MARGIN_TOP + plot_h / 2:.0f})" text-anchor="middle">{escape(y_label)}</text>'
        )
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        if s.get("low") is not None and s.get("high") is not None:
            upper = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, s["high"], strict=True))
            lower = " ".join(
                f"{px(a):.1f},{py(b):.1f}" for a, b in reversed(list(zip(x, s["low"], strict=True)))
            )
            out.append(
                f'<polygon points="{upper} {lower}" fill="{colour}" fill-opacity="0.18" '
                f'stroke="none"/>'
            )
        line = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, s["values"], strict=True))
        out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        ly = MARGIN_TOP + 14 + 18 * i
        out.append(
            f'<line x1="{WIDTH - MARGIN_RIGHT + 10}" x2="{WIDTH - MARGIN_RIGHT + 28}" '
            f'y1="{ly - 4}" y2="{ly - 4}" stroke="{colour}" stroke-width="3"/>'
        )
        out.append(
            f'<text x="{WIDTH - MARGIN_RIGHT + 32}" y="{ly}" font-size="11" '
            f'font-family="sans-serif"><title>{escape(s["label"])}</title>'
            f"{escape(_shorten(s['label']))}</text>"
        )
    for p in points:
        colour = PALETTE[p.get("series", 0) % len(PALETTE)]
        if p.get("low") is not None and p.get("high") is not None:
            out.append(
                f'<line x1="{px(p["x"]):.1f}" x2="{px(p["x"]):.1f}" '
                f'y1="{py(p["low"]):.1f}" y2="{py(p["high"]):.1f}" stroke="{colour}"/>'
            )
        out.append(
            f'<circle cx="{px(p["x"]):.1f}" cy="{py(p["value"]):.1f}" r="4" '
            f'fill="white" stroke="{colour}" stroke-width="2"/>'
        )
    if points and points_label:
        ly = MARGIN_TOP + 14 + 18 * len(series)
        cx = WIDTH - MARGIN_RIGHT + 19
        out.append(
            f'<circle cx="{cx}" cy="{ly - 4}" r="4" fill="white" stroke="{PALETTE[0]}" '
            f'stroke-width="2"/>'
        )
        out.append(
            f'<text x="{WIDTH - MARGIN_RIGHT + 32}" y="{ly}" font-size="11" '
            f'font-family="sans-serif">{escape(_shorten(points_label))}</text>'
        )
    out.append(
        f'<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_w}" height="{plot_h}" '
        f'fill="none" stroke="#999999"/>'
    )
    out.append("</svg>")
    return "\n".join(out)
