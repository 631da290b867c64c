"""Build a scenario from the programme's indicator results (the model's only data input).

Pure: it takes indicator rows already computed by the indicator engine, so it needs neither
Django nor the database. Mapping (documented in docs/model/cli.md):

=========================  ==================================================================
scenario key               source
=========================  ==================================================================
population.pwid            PSE ``pwid`` point estimate
coverage.ost               ``OST_COVERAGE`` population-level value (share of opioid-dependent
                           people on OST, used as the share of PWID on OST)
coverage.nsp               high-coverage NSP share approximated as
                           min(``NSP_SYRINGES_PER_PWID`` / 200, ``NSP_COVERAGE``): the share of
                           PWID receiving >= 200 syringes a year can be neither above the share
                           reached nor above the share possible if syringes came in lots of 200
                           (an upper-bound approximation)
coverage.hiv_testing       ``HTS_PWID`` population-level value
coverage.art               ``ART_PWID`` programme-level value (share of known HIV-positive PWID
                           clients on ART, matching the model's "share of diagnosed on ART")
coverage.naloxone          ``NALOXONE_KITS_DISTRIBUTED`` / PSE, assuming one kit covers one
                           person for a year (assumption)
=========================  ==================================================================

Coverage values may come as fractions (0-1) or percentages (0-100): values above 1 are read as
percentages. Everything not mapped (prevalences, HCV treatment, costs) keeps the model default
and is listed in the scenario description. The status quo becomes both the initial state and
the ``baseline``, so ``--set coverage.ost=0.5`` gives a scale-up compared with today.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .scenarios import validate

MAX_COVERAGE = 0.95
HIGH_COVERAGE_SYRINGES = 200.0  # syringes per person per year defining high-coverage NSP


def _fraction(value: float) -> float:
    value = float(value)
    if value > 1.0:
        value /= 100.0
    return min(max(value, 0.0), MAX_COVERAGE)


def _pse_value(pse: dict, key: str) -> float | None:
    item = pse.get(key)
    if item is None:
        return None
    if isinstance(item, dict):
        item = item.get("value", item.get("point"))
    return None if item is None else float(item)


PWID_DENOMINATED = ("NSP_COVERAGE", "HTS_PWID", "NSP_SYRINGES_PER_PWID", "PREVENTION_PACKAGE")


def pse_from_rows(indicators: list[dict]) -> dict:
    """The PWID size estimate used as the population-level denominator of indicator rows.

    The indicator engine reports it as ``population_denominator`` on every PWID-based
    coverage row; returns ``{"pwid": estimate}`` or ``{}`` when no row carries it.
    """
    for row in indicators:
        if row.get("code") in PWID_DENOMINATED and row.get("population_denominator"):
            return {"pwid": float(row["population_denominator"])}
    return {}


def describe_in_english(area_code: str, year: int, used: list[str], kept: list[str]) -> str:
    """The scenario's description: which indicators it was built from (``used``) and which
    scenario keys keep the model's defaults (``kept``)."""
    return (
        f"Built from programme data for area {area_code}, {year}. "
        f"Indicators used: {', '.join(used) or 'none'}. "
        f"Model defaults kept for: {', '.join(kept) or 'nothing'}, prevalences "
        "and costs."
    )


def scenario_from_program(area_code: str, year: int, indicators: list[dict], pse: dict,
                          describe: Callable[[str, int, list[str], list[str]], str] | None = None) -> dict:
    """Scenario dict for ``area_code`` starting in ``year`` from indicator rows and PSEs.

    Args:
        area_code: the area's code (used in the name only).
        year: the year of the indicator results; the scenario starts then.
        indicators: rows with keys code, value, programme_value, numerator, denominator,
            value_low, value_high (missing or None values are skipped).
        pse: population size estimates, ``{"pwid": number or {"value": number, ...}}``.
        describe: makes the description from (area_code, year, indicators used, scenario
            keys kept at the model's defaults); default :func:`describe_in_english`.

    Returns:
        A validated scenario dict.

    Raises:
        ValueError: no PWID population size estimate.
    """
    pwid = _pse_value(pse, "pwid")
    if pwid is None or pwid <= 0:
        raise ValueError("a PWID population size estimate (pse['pwid']) is needed")
    rows = {r["code"]: r for r in indicators}

    def val(code: str, key: str = "value") -> float | None:
        row = rows.get(code)
        if row is None or row.get(key) is None:
            return None
        return float(row[key])

    coverage: dict[str, float] = {}
    used, missing = [], []
    if (v := val("OST_COVERAGE")) is not None:
        coverage["ost"] = _fraction(v)
        used.append("OST_COVERAGE")
    if (spp := val("NSP_SYRINGES_PER_PWID")) is not None:
        share = spp / HIGH_COVERAGE_SYRINGES
        reach = val("NSP_COVERAGE")
        if reach is not None:
            share = min(share, _fraction(reach))
            used.append("NSP_COVERAGE")
        coverage["nsp"] = min(max(share, 0.0), MAX_COVERAGE)
        used.append("NSP_SYRINGES_PER_PWID")
    if (v := val("HTS_PWID")) is not None:
        coverage["hiv_testing"] = _fraction(v)
        used.append("HTS_PWID")
    art = val("ART_PWID", "programme_value")
    if art is None:
        art = val("ART_PWID")
    if art is not None:
        coverage["art"] = _fraction(art)
        used.append("ART_PWID")
    if (kits := val("NALOXONE_KITS_DISTRIBUTED")) is not None:
        coverage["naloxone"] = min(max(kits / pwid, 0.0), MAX_COVERAGE)
        used.append("NALOXONE_KITS_DISTRIBUTED")
    for key in ("ost", "nsp", "hiv_testing", "art", "naloxone", "hcv_treatment"):
        if key not in coverage:
            missing.append(f"coverage.{key}")

    initial = {k: coverage[k] for k in ("ost", "nsp", "art") if k in coverage}
    description = (describe or describe_in_english)(area_code, year, used, missing)
    scenario: dict[str, Any] = {
        "name": f"{area_code} {year}",
        "description": description,
        "start_year": int(year),
        "population": {"pwid": pwid},
        "initial": initial,
        "coverage": dict(coverage),
    }
    scenario = validate(scenario)
    # the comparator is the full status quo, so any later --set changes only the scenario
    scenario["baseline"] = {"coverage": dict(scenario["coverage"])}
    return validate(scenario)
