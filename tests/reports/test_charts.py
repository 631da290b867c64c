"""The SVG charts: geometry that follows the numbers, and nothing the CSP forbids."""

from __future__ import annotations

import re

import pytest

from salus.reports import charts


def _points(values):
    return [charts.TrendPoint(f"m{i}", f"month {i}", v, "x" if v is None else str(v)) for i, v in enumerate(values)]


def _bars(svg):
    return [
        (float(m.group("y")), float(m.group("h")), float(m.group("v")))
        for m in re.finditer(r'<rect class="bar" x="[^"]+" y="(?P<y>[^"]+)" width="[^"]+" height="(?P<h>[^"]+)" '
                             r'fill="[^"]+" data-value="(?P<v>[^"]+)"', svg)
    ]


@pytest.mark.parametrize(("value", "expected"), [(0, 1.0), (1, 1.0), (3, 5.0), (62.5, 100.0), (0.2, 0.2), (2400, 2500)])
def test_it_rounds_up_to_a_nice_number(value, expected):
    assert charts.nice_ceiling(value) == pytest.approx(expected)


def test_it_picks_whole_ticks_for_counts():
    assert charts.nice_step(3, whole=True) == 1.0  # never ticks at 0.75 people
    step = charts.nice_step(250)
    assert step == 100 and charts.axis_max(250, step) == 300


def test_it_draws_bars_in_proportion_to_their_values():
    svg = charts.trend_bars("Clients", _points([10, 20, 40]))
    bars = _bars(svg)
    assert [v for _y, _h, v in bars] == [10, 20, 40]
    heights = [h for _y, h, _v in bars]
    assert heights[1] == pytest.approx(2 * heights[0], rel=0.02)
    assert heights[2] == pytest.approx(4 * heights[0], rel=0.02)


def test_it_marks_a_month_without_a_number_instead_of_drawing_zero():
    svg = charts.trend_bars("Clients", _points([7, None, 9]))
    assert len(_bars(svg)) == 2
    assert svg.count('class="missing"') == 1


def test_it_escapes_text_and_uses_no_style_attribute():
    svg = charts.trend_bars("<b>&", _points([1]))
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    cov = charts.coverage_bar(
        "x", value=0.3, shown="30%", range_low=0.2, range_high=0.4, range_shown="20-40%",
        bands=charts.Bands(0.2, 0.4), band_labels={"low": "L", "medium": "M", "high": "H"},
        scale_max=1.0, tick_step=0.25, tick_format=str, target=0.5, target_label="t",
    )
    for chart in (svg, cov):
        assert "style=" not in chart and "<script" not in chart


def test_it_places_value_whisker_bands_and_target_on_one_scale():
    svg = charts.coverage_bar(
        "OST", value=0.3, shown="30%", range_low=0.4, range_high=0.2, range_shown="20-40%",
        bands=charts.Bands(0.2, 0.4), band_labels={"low": "L", "medium": "M", "high": "H"},
        scale_max=1.0, tick_step=0.25, tick_format=str, target=0.5, target_label="target",
    )
    left, width = 10, 400 - 10 - 14  # the plot area of coverage_bar

    def x(v):
        return left + v * width

    bar_width = float(re.search(r'class="bar value" x="10" y="[^"]+" width="([^"]+)"', svg).group(1))
    assert bar_width == pytest.approx(x(0.3) - left, abs=0.1)
    whisker = re.search(r'data-low="([^"]+)" data-high="([^"]+)"', svg)
    assert (float(whisker.group(1)), float(whisker.group(2))) == (0.2, 0.4)  # sorted
    target_x = float(re.search(r'<line class="target" x1="([^"]+)"', svg).group(1))
    assert target_x == pytest.approx(x(0.5), abs=0.1)
    medium = re.search(r'class="band band-medium" x="([^"]+)" y="[^"]+" width="([^"]+)"', svg)
    assert float(medium.group(1)) == pytest.approx(x(0.2), abs=0.1)
    assert float(medium.group(2)) == pytest.approx(x(0.4) - x(0.2), abs=0.1)


