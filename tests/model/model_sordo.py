"""Emergent check against Sordo et al. BMJ 2017;357:j1550 (methadone cohorts).

Published: all-cause mortality 11.3 per 1000 person-years in methadone treatment and 36.1 out
of it (out/in RR 3.20, 2.65-3.86); drug-poisoning 2.6 vs 12.7. The model takes the overdose
RR as an input, so the check is on all-cause mortality, which also depends on other-cause,
HIV and HCV deaths and on the tunnel states after starting and leaving OST.

Run as a script to print the figures in docs/model/validation.md:
    .venv/bin/python tests/model/model_sordo.py
"""

from __future__ import annotations

import numpy as np

from salus.model import core, outcomes, scenarios, uncertainty

DEATHS = ("death_overdose", "death_hiv", "death_hcv", "death_other")


def mortality_on_and_off_ost(coverage_ost: float = 0.4, years: int = 10) -> dict:
    """All-cause and overdose deaths per 1000 person-years among current injectors in the
    community (not in prison or just released), on OST (incl. its first 4 weeks) and off OST
    (incl. the 4 weeks after leaving), in the last year of a run with naloxone at zero."""
    s = scenarios.validate({"years": years, "coverage": {"ost": coverage_ost, "naloxone": 0.0}})
    params = uncertainty.point_parameters(scenarios.parameter_values(s))
    trans = core.build_transitions(params, outcomes.coverage_of(s), np.array([1e4]))
    x0 = core.initial_state(1, params, outcomes.initial_of(s))
    raw = core.simulate(trans, x0, years)
    py = raw.person_years[-1, 0]
    community = np.zeros(core.N, dtype=bool)
    community[: core.N_CURRENT] = core._S <= core.NSP  # not in prison, not just released
    out = {}
    for label, mask in (("on", core.MASKS["on_ost"]), ("off", ~core.MASKS["on_ost"])):
        m = mask & community
        # per-step death probabilities x 52 steps = deaths per person-year (to first order)
        per_step = {k: trans.flow_probability[k][0] for k in DEATHS}
        deaths = {k: float((p[m] * py[m]).sum() * core.STEPS_PER_YEAR) for k, p in per_step.items()}
        person_years = float(py[m].sum())
        out[label] = {
            "all_cause": 1000 * sum(deaths.values()) / person_years,
            "overdose": 1000 * deaths["death_overdose"] / person_years,
        }
    out["rr_all_cause"] = out["off"]["all_cause"] / out["on"]["all_cause"]
    out["rr_overdose"] = out["off"]["overdose"] / out["on"]["overdose"]
    return out


if __name__ == "__main__":
    r = mortality_on_and_off_ost()
    print(
        f"on OST:  all-cause {r['on']['all_cause']:.1f}, overdose {r['on']['overdose']:.1f} /1000 PY"
    )
    print(
        f"off OST: all-cause {r['off']['all_cause']:.1f}, overdose {r['off']['overdose']:.1f} /1000 PY"
    )
    print(f"out/in RR: all-cause {r['rr_all_cause']:.2f}, overdose {r['rr_overdose']:.2f}")
