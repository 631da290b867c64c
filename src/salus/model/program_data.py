"""The bridge's database side: the program's own indicators and PSEs for an area and year.

This is the only module of ``salus.model`` that touches Django. It asks the indicator engine
for the area's totals (no disaggregation) and the PSE table for the area's population, then
hands both to the pure :func:`salus.model.bridge.scenario_from_program`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from salus.model.bridge import scenario_from_program

# The indicators the bridge maps onto scenario keys (see bridge.py).
BRIDGE_CODES = [
    "OST_COVERAGE", "NSP_SYRINGES_PER_PWID", "NSP_COVERAGE", "HTS_PWID", "ART_PWID",
    "NALOXONE_KITS_DISTRIBUTED", "CLIENTS_REACHED",
]


class ProgramDataError(ValueError):
    """The program's data cannot make a scenario; the message says why, for the user."""


@dataclass
class ProgramInputs:
    area_path: str
    year: int
    indicators: list[dict]
    pse: dict
    scenario: dict


def pse_for(area, year: int) -> dict:
    """The area's PSEs of ``year`` as ``{population: {"value", "low", "high", "source"}}``."""
    from salus.core.models import PopulationSizeEstimate

    out = {}
    for p in PopulationSizeEstimate.objects.filter(area=area, year=year):
        out[p.population] = {"value": p.estimate, "low": p.low, "high": p.high, "source": p.source}
    return out


def _describe(area: str, year: int, used: list[str], kept: list[str]) -> str:
    """The scenario's description in the language of the request (English on the command line)."""
    return _(
        "Built from programme data for area %(area)s, %(year)s. Indicators used: %(used)s. "
        "Model defaults kept for: %(kept)s, prevalences and costs."
    ) % {"area": area, "year": year, "used": ", ".join(used) or _("none"), "kept": ", ".join(kept) or _("nothing")}


def program_inputs(area_code: str, year: int) -> ProgramInputs:
    """Indicators, PSEs and the scenario built from them for one area and year."""
    from salus.core.actions import AreaPathError, find_area
    from salus.indicators.engine import compute_indicators

    try:
        area = find_area(area_code)
    except AreaPathError as exc:
        raise ProgramDataError(str(exc)) from None
    pse = pse_for(area, year)
    if "pwid" not in pse:
        raise ProgramDataError(
            _("Area %(area)s has no population size estimate of people who inject drugs for %(year)s.")
            % {"area": area.path, "year": year}
        )
    rows = compute_indicators(str(year), area=area.path, codes=BRIDGE_CODES, disaggregate=False)
    totals = [r for r in rows if not r.get("disaggregation")]
    scenario = scenario_from_program(area.path, year, totals, pse, describe=_describe)
    return ProgramInputs(area.path, year, totals, pse, scenario)


def scenario_from_db(area_code: str, year: int) -> dict:
    """The scenario for ``salus model ... --from-db --area CODE --year Y``."""
    return program_inputs(area_code, year).scenario
