"""HTML reports: self-contained, escaped, and valid SVG."""

from __future__ import annotations

import re
import xml.dom.minidom

from model_helpers import scenario

from salus.model import api, report

HOSTILE = '<script>alert("x")</script> & "quotes"'


def test_scenario_names_are_escaped_everywhere():
    s = scenario(years=3, name=HOSTILE, coverage={"ost": 0.4}, baseline={"coverage": {"ost": 0.1}})
    comp = api.compare_dicts(s)
    html = report.compare_report(comp)
    assert "<script" not in html, "a scenario name must never inject markup"
    assert "&lt;script&gt;" in html


def test_every_chart_is_well_formed_svg():
    result = api.run_scenario_dict(scenario(years=4), samples=8, seed=1, workers=1)
    html = report.run_report(result)
    charts = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(charts) == 6, "six charts: HIV, HCV, overdose, two prevalences, cost"
    for svg in charts:
        xml.dom.minidom.parseString(svg)  # raises on malformed markup
    assert "polygon" in html, "sampled runs draw uncertainty bands"
