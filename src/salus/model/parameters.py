"""Every parameter of the PWID impact model: value, unit, uncertainty and source.

This module is the single parameter file of the model. ``docs/model/parameters.md`` is
generated from it (``python -m salus.model.docs``) and a test fails when the two differ.

Conventions:
    * Rates are per person-year (``1/year``); probabilities and relative risks are unitless.
    * Costs are US dollars per unit named in ``unit``. Currency years differ between sources
      (noted in ``source``); inflate and convert them before using results for decisions.
    * ``source`` says where the value comes from. "assumption" means no source in the
      evidence base backs it; "calibrated" means the value should be fitted to local data
      with ``salus model calibrate``. Values marked ``[verify]`` in the evidence base keep
      that flag here until someone checks the primary source.

Uncertainty distributions (sampled by Latin hypercube in ``uncertainty.py``):
    * ``fixed``: no uncertainty.
    * ``uniform``: between ``low`` and ``high``.
    * ``triangular``: mode ``value``, between ``low`` and ``high``.
    * ``lognormal``: median ``value``; ``low``/``high`` are the 95 % interval. When the
      interval is not symmetric on the log scale, its log-width sets sigma and the median stays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

DISTRIBUTIONS = ("fixed", "uniform", "triangular", "lognormal")


@dataclass(frozen=True)
class Parameter:
    """One model input with its unit, uncertainty and citation."""

    name: str
    value: float
    unit: str
    description: str
    source: str
    group: str
    dist: str = "fixed"
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if self.dist not in DISTRIBUTIONS:
            raise ValueError(f"{self.name}: unknown distribution {self.dist!r}")
        if self.dist != "fixed":
            if self.low is None or self.high is None or not self.low <= self.high:
                raise ValueError(f"{self.name}: {self.dist} needs low <= high")
            if self.dist in ("uniform", "triangular") and not self.low <= self.value <= self.high:
                raise ValueError(f"{self.name}: value outside [low, high]")
            if self.dist == "lognormal" and (self.low <= 0 or self.value <= 0):
                raise ValueError(f"{self.name}: lognormal needs positive value and low")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map uniform(0, 1) quantiles ``u`` to parameter values (same shape as ``u``)."""
        u = np.asarray(u, dtype=float)
        if self.dist == "fixed":
            return np.full_like(u, self.value)
        low, high = self.low, self.high
        assert low is not None and high is not None  # __post_init__: every other dist has both
        if self.dist == "uniform":
            return low + u * (high - low)
        if self.dist == "triangular":
            width = high - low
            if width == 0:
                return np.full_like(u, self.value)
            c = (self.value - low) / width
            return stats.triang.ppf(u, c, loc=low, scale=width)
        # lognormal: the 95 % interval spans 2 * 1.96 sigma on the log scale
        sigma = (np.log(high) - np.log(low)) / (2 * 1.959964)
        return np.exp(np.log(self.value) + sigma * stats.norm.ppf(u))


GROUPS = {
    "population": "Population turnover and prison",
    "hiv": "HIV natural history, testing and treatment",
    "hcv": "Hepatitis C",
    "effects": "Intervention effects on acquisition",
    "overdose": "Overdose and other mortality",
    "costs": "Unit costs",
    "dalys": "Disability weights and years of life lost",
}

_PARAMETERS = [
    # --- population turnover -------------------------------------------------------------
    Parameter(
        "initiation_rate",
        0.06,
        "1/year (per initial PWID)",
        "People starting to inject each year, as a fraction of the initial PWID population "
        "(a constant inflow, so interventions do not change it).",
        "assumption; calibrate to local population size estimates",
        "population",
        "uniform",
        0.03,
        0.10,
    ),
    Parameter(
        "cessation_rate",
        0.05,
        "1/year",
        "Rate of stopping injecting (moving to the former-injector compartment).",
        "assumption (mean injecting career about 20 years without deaths)",
        "population",
        "uniform",
        0.03,
        0.10,
    ),
    Parameter(
        "relapse_rate",
        0.03,
        "1/year",
        "Rate at which people who formerly injected start injecting again.",
        "assumption",
        "population",
        "uniform",
        0.01,
        0.10,
    ),
    Parameter(
        "ost_leaving_rate",
        1.5,
        "1/year",
        "Rate of leaving opioid substitution treatment (OST); recruitment is set from it "
        "so that the steady-state share on OST equals coverage.ost.",
        "Mexico PWID model parameter table (PMC8133359, table T1): 1.5/yr (1-2)",
        "population",
        "uniform",
        1.0,
        2.0,
    ),
    Parameter(
        "nsp_leaving_rate",
        1.5,
        "1/year",
        "Rate of leaving high-coverage needle and syringe programme (NSP) use; recruitment "
        "is set so that the steady-state share equals coverage.nsp.",
        "Bristol/LSHTM PWID models: leaving rates of OST and high-coverage NSP around 1.5/yr "
        "(evidence base summary); range 1-2 as for OST (assumption)",
        "population",
        "uniform",
        1.0,
        2.0,
    ),
    Parameter(
        "incarceration_rate",
        0.10,
        "1/year",
        "Rate at which people who inject drugs in the community are imprisoned.",
        "assumption",
        "population",
        "uniform",
        0.05,
        0.20,
    ),
    Parameter(
        "prison_release_rate",
        2.0,
        "1/year",
        "Release rate from prison (mean stay 1/rate years).",
        "assumption (mean stay 6 months)",
        "population",
        "uniform",
        1.0,
        4.0,
    ),
    Parameter(
        "prison_injecting_risk",
        0.5,
        "relative (unitless)",
        "Injecting-related transmission risk in prison relative to the community.",
        "assumption",
        "population",
        "uniform",
        0.0,
        1.0,
    ),
    # --- HIV --------------------------------------------------------------------------------
    Parameter(
        "hiv_transmission_rate",
        0.17,
        "1/year",
        "Force of HIV infection on a susceptible person at 100 % risk-weighted infectious "
        "prevalence among injecting partners (beta).",
        "calibrated (default fitted by hand to the illustrative example; refit per area)",
        "hiv",
        "uniform",
        0.12,
        0.22,
    ),
    Parameter(
        "art_efficacy_injecting",
        0.44,
        "fraction (unitless)",
        "Reduction in injecting-related HIV transmission from people on ART.",
        "Vickerman 2017 Int J Epidemiol 46(2):466 (V5): 44 % (0-96 %)",
        "hiv",
        "triangular",
        0.0,
        0.96,
    ),
    Parameter(
        "hiv_background_diagnosis_rate",
        0.10,
        "1/year",
        "HIV diagnosis rate outside the modelled testing programme.",
        "assumption",
        "hiv",
        "uniform",
        0.05,
        0.20,
    ),
    Parameter(
        "art_dropout_rate",
        0.10,
        "1/year",
        "Rate of stopping ART; initiation is set so that the steady-state share of "
        "diagnosed people on ART equals coverage.art.",
        "assumption",
        "hiv",
        "uniform",
        0.05,
        0.20,
    ),
    Parameter(
        "hiv_mortality_untreated",
        0.08,
        "1/year",
        "HIV-related mortality without ART (no CD4 structure: an average over the course).",
        "assumption (median survival about 10 years without ART)",
        "hiv",
        "uniform",
        0.05,
        0.12,
    ),
    Parameter(
        "hiv_mortality_art",
        0.01,
        "1/year",
        "HIV-related mortality on ART.",
        "assumption",
        "hiv",
        "uniform",
        0.005,
        0.02,
    ),
    # --- HCV --------------------------------------------------------------------------------
    Parameter(
        "hcv_transmission_rate",
        0.25,
        "1/year",
        "Force of HCV infection at 100 % risk-weighted chronic prevalence (beta).",
        "calibrated (default fitted by hand to the illustrative example; refit per area)",
        "hcv",
        "uniform",
        0.18,
        0.32,
    ),
    Parameter(
        "hcv_spontaneous_clearance",
        0.26,
        "probability",
        "Share of new HCV infections that clear without treatment.",
        "Mexico PWID model parameter table (PMC8133359, table T1): 0.26 (0.22-0.30)",
        "hcv",
        "triangular",
        0.22,
        0.30,
    ),
    Parameter(
        "hcv_svr",
        0.95,
        "probability",
        "Sustained virological response (cure) per direct-acting antiviral course.",
        "Mexico PWID model parameter table (PMC8133359, table T1): 0.95; range assumption",
        "hcv",
        "uniform",
        0.90,
        0.98,
    ),
    Parameter(
        "hcv_mortality_chronic",
        0.004,
        "1/year",
        "Liver-related mortality with chronic HCV (no fibrosis staging).",
        "assumption",
        "hcv",
        "uniform",
        0.001,
        0.01,
    ),
    # --- intervention effects ---------------------------------------------------------------
    Parameter(
        "rr_hiv_ost",
        0.46,
        "relative risk",
        "HIV acquisition on OST vs not.",
        "MacArthur 2012 BMJ 345:e5945: RR 0.46 (0.32-0.67)",
        "effects",
        "lognormal",
        0.32,
        0.67,
    ),
    Parameter(
        "rr_hiv_nsp",
        0.66,
        "relative risk",
        "HIV acquisition on high-coverage NSP vs not. OST and NSP together use the product "
        "of the two RRs (no joint estimate for HIV in the evidence base).",
        "Aspinall 2014 Int J Epidemiol 43:235: 0.66 (0.43-1.01), all 12 studies",
        "effects",
        "lognormal",
        0.43,
        1.01,
    ),
    Parameter(
        "rr_hcv_ost",
        0.50,
        "relative risk",
        "HCV acquisition on OST vs not.",
        "Platt 2018 Addiction 113:545: RR 0.50 (0.40-0.63)",
        "effects",
        "lognormal",
        0.40,
        0.63,
    ),
    Parameter(
        "rr_hcv_nsp",
        0.79,
        "relative risk",
        "HCV acquisition on high-coverage NSP vs not (heterogeneous: Europe 0.44, "
        "North America 1.58; sampled in PSA, never fixed).",
        "Platt 2018 Addiction 113:545: 0.79 (0.39-1.61)",
        "effects",
        "lognormal",
        0.39,
        1.61,
    ),
    Parameter(
        "rr_hcv_ost_nsp",
        0.24,
        "relative risk",
        "HCV acquisition on OST and high-coverage NSP together (joint estimate, not a "
        "product of the single RRs).",
        "Platt 2018 Addiction 113:545: 0.24 (0.07-0.89); the Mexico model table quotes (0.09-0.62)",
        "effects",
        "lognormal",
        0.07,
        0.89,
    ),
    # --- overdose and other mortality -------------------------------------------------------
    Parameter(
        "overdose_mortality",
        0.0127,
        "1/year",
        "Fatal overdose rate of people who inject drugs off OST, in the community, not "
        "recently released, without naloxone.",
        "Sordo 2017 BMJ 357:j1550: 12.7/1000 PY out of methadone treatment; low 4.6 "
        "(buprenorphine cohorts), high assumption; calibrated per area",
        "overdose",
        "triangular",
        0.0046,
        0.0254,
    ),
    Parameter(
        "rr_overdose_ost",
        1 / 4.80,
        "relative risk",
        "Overdose mortality on OST (after the first 4 weeks) vs off OST.",
        "Sordo 2017 BMJ 357:j1550: out/in RR 4.80 (2.90-7.96), inverted",
        "overdose",
        "lognormal",
        1 / 7.96,
        1 / 2.90,
    ),
    Parameter(
        "overdose_multiplier_ost_first_4_weeks",
        2.0,
        "relative (unitless)",
        "Overdose mortality in the first 4 weeks on OST vs the rest of OST.",
        "Santo 2021 JAMA Psychiatry 78:979 ('almost double') [verify]; high: Cornish 2010 "
        "BMJ 341:c5475 RR 3.1 weeks 1-2 (all-cause)",
        "overdose",
        "triangular",
        1.5,
        3.1,
    ),
    Parameter(
        "overdose_multiplier_after_ost_first_4_weeks",
        4.5,
        "relative (unitless)",
        "Overdose mortality in the first 4 weeks after leaving OST vs later off OST.",
        "derived: Cornish 2010 BMJ 341:c5475 RR 9 (weeks 1-2) and 8 (weeks 3-4) over RR 1.9 "
        "for the rest off treatment (all-cause); low: Cousins 2016 Addiction 111:73 "
        "6.36/3.64",
        "overdose",
        "triangular",
        1.7,
        4.7,
    ),
    Parameter(
        "overdose_multiplier_release_weeks_1_2",
        7.5,
        "relative (unitless)",
        "Overdose mortality in weeks 1-2 after prison release vs the community rate.",
        "Merrall 2010 Addiction 105:1545: 7.5 UK (range over settings 3.1-8.4) vs weeks "
        "3-12; equating weeks 3-12 with the community rate is an assumption",
        "overdose",
        "triangular",
        3.1,
        8.4,
    ),
    Parameter(
        "overdose_multiplier_release_weeks_3_4",
        1.7,
        "relative (unitless)",
        "Overdose mortality in weeks 3-4 after release vs the community rate.",
        "Merrall 2010 Addiction 105:1545: pooled 1.7 (1.3-2.2) vs weeks 5-12",
        "overdose",
        "lognormal",
        1.3,
        2.2,
    ),
    Parameter(
        "overdose_multiplier_in_prison",
        0.1,
        "relative (unitless)",
        "Overdose mortality in prison vs the community rate.",
        "assumption",
        "overdose",
        "uniform",
        0.0,
        0.3,
    ),
    Parameter(
        "rr_overdose_naloxone",
        0.54,
        "relative risk",
        "Overdose mortality at full naloxone coverage vs none; coverage c scales the effect "
        "linearly (1 - c * (1 - RR)). Full coverage is taken to equal the >100 enrolments "
        "per 100,000 level (assumption).",
        "Walley 2013 BMJ 346:f174, Table 4: aRR 0.54 (0.39-0.76)",
        "overdose",
        "lognormal",
        0.39,
        0.76,
    ),
    Parameter(
        "other_mortality",
        0.010,
        "1/year",
        "Mortality of people who inject drugs from causes other than overdose, HIV and HCV.",
        "assumption, informed by all-cause PWID mortality 0.02/yr in the Mexico model "
        "table (PMC8133359) minus overdose",
        "overdose",
        "uniform",
        0.005,
        0.02,
    ),
    Parameter(
        "rr_other_mortality_ost",
        0.47,
        "relative risk",
        "Mortality from causes other than overdose, HIV and HCV on OST vs off OST.",
        "Santo 2021 JAMA Psychiatry 78:979: all-cause RR 0.47 (0.42-0.53) on vs off OAT (use "
        "the corrected tables: 3 errata), applied to other causes (assumption; Sordo 2017's "
        "non-overdose rates, 8.7 vs 23.4/1000 PY, suggest 0.37)",
        "overdose",
        "lognormal",
        0.42,
        0.53,
    ),
    Parameter(
        "other_mortality_former",
        0.008,
        "1/year",
        "Mortality of people who formerly injected from causes other than HIV and HCV.",
        "assumption",
        "overdose",
        "uniform",
        0.004,
        0.015,
    ),
    # --- costs ------------------------------------------------------------------------------
    Parameter(
        "cost_nsp",
        71.0,
        "USD per person-year on high-coverage NSP",
        "Unit cost of NSP.",
        "UNAIDS 2007 estimates via Wilson 2015 IJDP 26 S1:S5 (US$23-71); high: Killion 2023 "
        "AIDS 37:2389 comprehensive NSP about US$460 (2020 USD)",
        "costs",
        "triangular",
        23.0,
        460.0,
    ),
    Parameter(
        "cost_ost",
        544.0,
        "USD per person-year on OST",
        "Unit cost of methadone OST (direct costs).",
        "Kenya, Pan Afr Med J 2021;38:84: US$1.49/day; range assumption",
        "costs",
        "triangular",
        300.0,
        1000.0,
    ),
    Parameter(
        "cost_art",
        880.0,
        "USD per person-year on ART",
        "Unit cost of ART including drugs.",
        "Menzies 2011 AIDS 25(14): median US$880 (2009 USD); range assumption",
        "costs",
        "triangular",
        600.0,
        1200.0,
    ),
    Parameter(
        "cost_hiv_test",
        10.0,
        "USD per test",
        "Cost of one HIV test including counselling.",
        "assumption (illustrative)",
        "costs",
        "uniform",
        5.0,
        20.0,
    ),
    Parameter(
        "cost_hcv_course",
        800.0,
        "USD per treatment course",
        "Cost of one direct-acting antiviral course including monitoring.",
        "assumption (illustrative, generic DAA prices)",
        "costs",
        "uniform",
        300.0,
        2000.0,
    ),
    Parameter(
        "cost_naloxone",
        40.0,
        "USD per person-year covered",
        "Take-home naloxone kits and training per person covered.",
        "assumption (illustrative)",
        "costs",
        "uniform",
        20.0,
        80.0,
    ),
    Parameter(
        "cost_hiv_care",
        202.0,
        "USD per person-year diagnosed, not on ART",
        "HIV care before ART (treatment cost, not a programme cost).",
        "Menzies 2011 AIDS 25(14): pre-ART US$202 (2009 USD); range assumption",
        "costs",
        "uniform",
        150.0,
        250.0,
    ),
    # --- DALYs ------------------------------------------------------------------------------
    Parameter(
        "dw_hiv_untreated",
        0.081,
        "disability weight",
        "HIV without ART, averaged over the course (the CD4 200-350 weight is used as the "
        "average).",
        "Optima HIV model-inputs 'Disutility weights' CD4 200-350 0.081 (0.055-0.107) "
        "[verify] against GBD; use as an average is an assumption",
        "dalys",
        "triangular",
        0.055,
        0.107,
    ),
    Parameter(
        "dw_hiv_art",
        0.078,
        "disability weight",
        "HIV on ART.",
        "GBD 2013 'HIV/AIDS receiving ART' (Salomon 2015 Lancet Glob Health) via Optima HIV: "
        "0.078 (0.052-0.111)",
        "dalys",
        "triangular",
        0.052,
        0.111,
    ),
    Parameter(
        "dw_hcv_chronic",
        0.0,
        "disability weight",
        "Chronic HCV without cirrhosis (GBD gives zero; cirrhosis is not modelled).",
        "GBD 2013 (Salomon 2015) [verify]",
        "dalys",
    ),
    Parameter(
        "life_years_lost_per_death",
        35.0,
        "years",
        "Remaining life expectancy lost per death (undiscounted).",
        "assumption (deaths around age 35-40)",
        "dalys",
        "uniform",
        25.0,
        45.0,
    ),
]

PARAMETERS: dict[str, Parameter] = {p.name: p for p in _PARAMETERS}

# The frozen parameter set of this release: parameter_sets/<version>.json holds every value,
# distribution and bound. Changing a parameter means writing a new set under a new version
# (``python -m salus.model.docs --freeze NEW_VERSION``) and keeping the old files, so results
# of any release can be traced to the exact inputs. A test checks the two agree.
PARAMETER_SET_VERSION = "2026.2"
PARAMETER_SET_DIR = Path(__file__).with_name("parameter_sets")


def parameter_set_snapshot() -> dict:
    """The current parameters as a JSON-ready dict (what a frozen set file holds)."""
    return {
        "version": PARAMETER_SET_VERSION,
        "parameters": {
            p.name: {"value": p.value, "unit": p.unit, "dist": p.dist, "low": p.low, "high": p.high}
            for p in _PARAMETERS
        },
    }


def frozen_parameter_set(version: str = PARAMETER_SET_VERSION) -> dict:
    """Read the frozen parameter set of ``version``."""
    return json.loads((PARAMETER_SET_DIR / f"{version}.json").read_text(encoding="utf-8"))


def default_values() -> dict[str, float]:
    """Return ``{name: value}`` for every parameter."""
    return {name: p.value for name, p in PARAMETERS.items()}


def uncertain_names() -> list[str]:
    """Names of the parameters that have an uncertainty distribution, in file order."""
    return [name for name, p in PARAMETERS.items() if p.dist != "fixed"]


def check_overrides(overrides: dict) -> dict[str, float]:
    """Validate ``{name: value}`` overrides; raise ``KeyError`` naming an unknown parameter."""
    clean = {}
    for name, value in overrides.items():
        if name not in PARAMETERS:
            raise KeyError(f"unknown parameter {name!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"parameter {name!r} must be a number, got {value!r}")
        clean[name] = float(value)
    return clean
