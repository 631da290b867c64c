"""Validation case V1: Degenhardt et al. Lancet 2010;376:285-301 (modelling by Vickerman).

Generic PWID epidemic, 5-year horizon, "50 % recruitment annually" onto OST and NSP from no
coverage. Published: OST+NSP reduce HIV incidence by 9-37 % over 5 years across settings.

Run as a script to print the table in docs/model/validation.md:
    .venv/bin/python tests/model/model_degenhardt.py
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from salus.model import core, outcomes, scenarios, uncertainty

HORIZON = 5  # years
RECRUITMENT = np.log(2.0)  # 1/year: half of those not on a programme start each year
PREVALENCES = (0.05, 0.10, 0.20, 0.40, 0.60)
EFFICACY = {  # (rr_hiv_ost, rr_hiv_nsp): central, least and most effective ends of the CIs
    "central": (0.46, 0.66),
    "low efficacy": (0.67, 1.01),
    "high efficacy": (0.32, 0.43),
}


def _scenario(prevalence, beta, ost, nsp, rr):
    return scenarios.validate(
        {
            "years": HORIZON,
            "initial": {
                "hiv_prevalence": prevalence,
                "hiv_diagnosed": 0.0,
                "art": 0.0,
                "ost": 0.0,
                "nsp": 0.0,
            },
            "coverage": {
                "ost": ost,
                "nsp": nsp,
                "art": 0.0,
                "hiv_testing": 0.0,
                "hcv_treatment": 0.0,
                "naloxone": 0.0,
            },
            "parameters": {"hiv_transmission_rate": beta, "rr_hiv_ost": rr[0], "rr_hiv_nsp": rr[1]},
        }
    )


def _run(s):
    return outcomes.simulate_scenario(
        s, uncertainty.point_parameters(scenarios.parameter_values(s))
    )


def incidence_reduction(prevalence: float, rr=EFFICACY["central"]) -> dict:
    """Reduction in HIV incidence from OST+NSP at 50 % annual recruitment.

    The transmission rate is set so that, without programmes, prevalence is the same after
    five years as at the start (an endemic setting).
    """

    def drift(beta):
        return _run(_scenario(prevalence, beta, 0, 0, rr))["hiv_prevalence"][-1, 0] - prevalence

    beta = brentq(drift, 0.01, 5.0, xtol=1e-6)
    # the coverage levels whose enrolment rate is the published recruitment
    s = _scenario(prevalence, beta, 0, 0, rr)
    params = uncertainty.point_parameters(scenarios.parameter_values(s))
    cov = core.coverage_for_enrolment(params, {"ost": RECRUITMENT, "nsp": RECRUITMENT})
    ost, nsp = float(cov["ost"][0]), float(cov["nsp"][0])
    base = _run(_scenario(prevalence, beta, 0, 0, rr))["new_hiv_infections"][:, 0]
    prog = _run(_scenario(prevalence, beta, ost, nsp, rr))["new_hiv_infections"][:, 0]
    return {
        "beta": beta,
        "ost": ost,
        "nsp": nsp,
        "year_5": 1 - prog[-1] / base[-1],
        "cumulative": 1 - prog.sum() / base.sum(),
    }


if __name__ == "__main__":
    print(
        "| Efficacy | Prevalence | beta | OST / NSP coverage | Year-5 incidence reduction "
        "| 5-year cumulative |"
    )
    print("|---|---|---|---|---|---|")
    for label, rr in EFFICACY.items():
        for p in PREVALENCES:
            r = incidence_reduction(p, rr)
            print(
                f"| {label} (OST {rr[0]}, NSP {rr[1]}) | {p:.0%} | {r['beta']:.3f} | "
                f"{r['ost']:.3f} / {r['nsp']:.3f} | {r['year_5']:.1%} | {r['cumulative']:.1%} |"
            )
