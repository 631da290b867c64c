"""Reproduce published results (docs/model/validation.md documents inputs and gaps)."""

from __future__ import annotations

import pytest
from model_degenhardt import incidence_reduction

# Degenhardt 2010 (V1): OST+NSP at 50 % annual recruitment reduce HIV incidence by 9-37 %
# over five years, the range spanning settings and efficacy assumptions.
PUBLISHED_LOW, PUBLISHED_HIGH = 0.09, 0.37


@pytest.mark.parametrize("prevalence", [0.05, 0.20, 0.40])
def test_degenhardt_2010_ost_nsp_reduction_is_in_the_published_range(prevalence):
    result = incidence_reduction(prevalence)
    for measure in ("year_5", "cumulative"):
        assert PUBLISHED_LOW <= result[measure] <= PUBLISHED_HIGH, (
            f"at {prevalence:.0%} HIV prevalence the {measure} incidence reduction "
            f"{result[measure]:.1%} should lie in the published 9-37 %"
        )


def test_degenhardt_2010_impact_falls_with_prevalence():
    # in the published figure, the relative impact is larger in lower-prevalence settings
    assert incidence_reduction(0.05)["year_5"] > incidence_reduction(0.40)["year_5"], (
        "the same programmes should cut incidence more where prevalence is low"
    )
