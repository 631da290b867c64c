"""The indicator catalogue: every indicator Salus computes, declared as data in one place.

Each :class:`Indicator` says what is counted (numerator, denominators), how it is split
(disaggregations), where the definition comes from (source), what kind of number it is and
which coverage bands apply. The engine (salus.indicators.engine) computes exactly these codes;
docs/indicators.md is generated from this list (``python -m salus.indicators.catalogue``) and a
test checks that the two agree.

Coverage bands are the defaults from the WHO/UNODC/UNAIDS Technical Guide; a program overrides
them in its configuration (``coverage_bands`` in salus.core.config).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# What kind of number an indicator is.
COUNT = "count"  # a whole number of people, contacts, items or days
PROPORTION = "proportion"  # a fraction 0-1 of people or tests
RATIO = "ratio"  # one count divided by another of a different thing; may exceed 1
RATE = "rate"  # a count per person per year (annualised for periods shorter than a year)
KINDS = (COUNT, PROPORTION, RATIO, RATE)

# Disaggregation dimensions. Site cells also carry the site's area, so that an area cell is
# the sum of its site cells (which small-cell suppression needs to know).
CLIENT_CELLS = ("sex", "age", "area", "site")
STOCK_CELLS = ("site", "commodity")

# The populations a population size estimate can be for (core.PopulationSizeEstimate).
PWID = "pwid"
OPIOID_DEPENDENT = "opioid_dependent"
PWID_HIV = "pwid_hiv"

TG_2012 = (
    "WHO, UNODC, UNAIDS. Technical guide for countries to set targets for universal access to HIV "
    "prevention, treatment and care for injecting drug users, 2009, revised 2012"
)
WHO_SI_2022 = "WHO. Consolidated guidelines on person-centred HIV strategic information, 2022"
SALUS = "Salus programme monitoring (routine service statistics)"


@dataclass(frozen=True)
class Indicator:
    code: str
    # Translated lazily (in the reader's language): str() it where a plain string is needed.
    name: StrOrPromise
    definition: StrOrPromise
    numerator: str
    # Programme-level denominator (people using the service), or "" when there is none.
    denominator: str
    kind: str
    source: str
    # Population of the PSE used as the population-level denominator, or None.
    population: str | None = None
    disaggregations: tuple[str, ...] = CLIENT_CELLS
    unit: str = ""
    # Default coverage bands (lower and upper bound of "medium"), on the population-level value.
    bands: tuple[float, float] | None = None
    # Scaled by 365 / days in the period for periods shorter than a year.
    annualised: bool = False
    # Counts derived from people's records are small-cell suppressed when they leave the system.
    person_based: bool = True
    # Its counts for a period are the sums of its counts for the months in it (events dated in
    # P, not people counted once in P): a hidden month could be found from the quarter and
    # the other months, so suppression links the periods of a year (salus.indicators.release).
    adds_over_time: bool = False
    maps_to: str = ""


CATALOGUE: tuple[Indicator, ...] = (
    Indicator(
        code="NSP_SYRINGES_PER_PWID",
        name=_("Needles-syringes distributed per person who injects drugs per year"),
        definition=_("Needles-syringes given in the period at the sites in scope, annualised by "
            "365 / days in the period, divided by the number of people who inject drugs."),
        numerator="Needles-syringes given in P at the sites in scope (the value is annualised)",
        denominator="PWID clients who received at least one syringe in P",
        population=PWID,
        kind=RATE,
        unit="syringes per person per year",
        bands=(100, 200),
        annualised=True,
        source=TG_2012 + "; UNAIDS Global AIDS Monitoring; Global Fund KP-4; " + WHO_SI_2022 + " (PRV.10)",
        maps_to="TG 2012 NSP; GAM; GF KP-4; WHO SI PRV.10",
        # Its numerator is SYRINGES_DISTRIBUTED's count, which must be hidden the same way in
        # both; its denominator does not add up, and linking it only hides more.
        adds_over_time=True,
    ),
    Indicator(
        code="NSP_COVERAGE",
        name=_("People who inject drugs who received needles-syringes"),
        definition=_("Share of people who inject drugs who received at least one needle-syringe in P."),
        numerator="PWID clients who received at least one syringe in P",
        denominator="PWID clients with at least one contact in P",
        population=PWID,
        kind=PROPORTION,
        bands=(0.2, 0.6),
        source=WHO_SI_2022 + " (PRV.8); " + TG_2012,
        maps_to="WHO SI PRV.8",
    ),
    Indicator(
        code="NSP_REGULAR",
        name=_("Needle-syringe program users reached every month"),
        definition=_("Share of PWID clients who received syringes in P who received syringes in "
            "every calendar month of P (calendar months stand in for 30-day periods)."),
        numerator="PWID clients who received syringes in every calendar month of P",
        denominator="PWID clients who received at least one syringe in P",
        kind=PROPORTION,
        source=WHO_SI_2022 + " (PRV.9)",
        maps_to="WHO SI PRV.9",
    ),
    Indicator(
        code="OST_COVERAGE",
        name=_("People with opioid dependence on opioid agonist treatment on the census date"),
        definition=_("Clients with an OST episode active on the census date (started on or before "
            "it and not ended before it) divided by the estimated number of people with opioid dependence."),
        numerator="Clients with an OST episode active on the census date at the sites in scope",
        denominator="",
        population=OPIOID_DEPENDENT,
        kind=PROPORTION,
        bands=(0.2, 0.4),
        source="UNAIDS Global AIDS Monitoring (coverage of opioid agonist maintenance therapy); "
        + TG_2012 + "; " + WHO_SI_2022 + " (PRV.11)",
        maps_to="GAM OAMT coverage; WHO SI PRV.11",
    ),
    Indicator(
        code="OST_RETENTION_6M",
        name=_("OST episodes retained for at least six months"),
        definition=_("Of the OST episodes that started in P and whose day 182 is on or before the "
            "as-of date, the share not ended before day 182 after the start."),
        numerator="Cohort episodes not ended before day 182 after their start",
        denominator="OST episodes that started in P and whose day 182 is on or before the as-of date",
        kind=PROPORTION,
        source=WHO_SI_2022 + " (PRV.13); Global Fund KP-5 (code to verify against the grant's handbook)",
        maps_to="WHO SI PRV.13",
    ),
    Indicator(
        code="OST_MIN_DOSE",
        name=_("People on OST on an adequate maintenance dose"),
        definition=_("Of the clients on OST on the census date, excluding those in induction (first "
            "14 days or an induction dose) or on a reducing dose, the share whose latest dose is at least "
            "60 mg methadone or 8 mg buprenorphine."),
        numerator="Clients in the denominator whose latest dose is >= 60 mg methadone or >= 8 mg buprenorphine",
        denominator="Clients on methadone or buprenorphine on the census date, not in induction and not on a reducing dose",
        kind=PROPORTION,
        source=WHO_SI_2022 + " (PRV.14)",
        maps_to="WHO SI PRV.14",
    ),
    Indicator(
        code="HTS_PWID",
        name=_("People who inject drugs tested for HIV who know their result"),
        definition=_("PWID clients with at least one HIV test in P whose result was given to them."),
        numerator="PWID clients with at least one HIV test with the result given in P",
        denominator="PWID clients with at least one contact in P",
        population=PWID,
        kind=PROPORTION,
        bands=(0.4, 0.75),
        source="Global Fund HTS-3d; " + TG_2012,
        maps_to="GF HTS-3d",
    ),
    Indicator(
        code="PREVENTION_PACKAGE",
        name=_("People who inject drugs reached with the defined prevention package"),
        definition=_("PWID clients who received every element of the program's defined package "
            "(program configuration defined_package; default syringes and condoms) in P."),
        numerator="PWID clients who received every element of the defined package in P",
        denominator="PWID clients with at least one contact in P",
        population=PWID,
        kind=PROPORTION,
        source="Global Fund KP-1d (the package is defined by each country)",
        maps_to="GF KP-1d",
    ),
    Indicator(
        code="ART_PWID",
        name=_("People who inject drugs living with HIV on antiretroviral treatment"),
        definition=_("PWID clients seen in P and known to be living with HIV (a positive HIV result "
            "given, or an ART status 'on ART' recorded, on or before the census date, at any site) whose "
            "latest ART status on or before the census date is 'on ART'."),
        numerator="Known HIV-positive PWID clients whose latest recorded ART status is on ART",
        denominator="PWID clients with a contact in P known to be HIV-positive by the census date",
        population=PWID_HIV,
        kind=PROPORTION,
        bands=(0.25, 0.75),
        source=TG_2012 + "; " + WHO_SI_2022 + " (ART.10)",
        maps_to="TG ART; WHO SI ART.10",
    ),
    Indicator(
        code="CLIENTS_REACHED",
        name=_("Clients reached"),
        definition=_("Unique clients with at least one contact in P."),
        numerator="Unique clients with at least one contact in P",
        denominator="",
        kind=COUNT,
        unit="clients",
        source=SALUS,
    ),
    Indicator(
        code="NEW_CLIENTS",
        name=_("New clients"),
        definition=_("Clients whose first-ever contact with the program is in P, counted where "
            "that first contact took place."),
        numerator="Clients whose first-ever contact is in P",
        denominator="",
        kind=COUNT,
        unit="clients",
        source=SALUS,
        adds_over_time=True,
    ),
    Indicator(
        code="CONTACTS",
        name=_("Contacts"),
        definition=_("Contacts (visits, outreach encounters) in P."),
        numerator="Contacts in P",
        denominator="",
        kind=COUNT,
        unit="contacts",
        source=SALUS,
        adds_over_time=True,
    ),
    Indicator(
        code="SYRINGES_DISTRIBUTED",
        name=_("Needles-syringes distributed"),
        definition=_("Needles-syringes given in P."),
        numerator="Needles-syringes given in P",
        denominator="",
        kind=COUNT,
        unit="syringes",
        source=SALUS + "; " + TG_2012,
        adds_over_time=True,
    ),
    Indicator(
        code="SYRINGE_RETURN_RATE",
        name=_("Used syringes returned per syringe given"),
        definition=_("Syringes returned divided by syringes given in P (can exceed 1)."),
        numerator="Syringes returned in P",
        denominator="Syringes given in P",
        kind=RATIO,
        source=SALUS,
        adds_over_time=True,
    ),
    Indicator(
        code="CONDOMS_DISTRIBUTED",
        name=_("Condoms distributed"),
        definition=_("Condoms given in P."),
        numerator="Condoms given in P",
        denominator="",
        kind=COUNT,
        unit="condoms",
        source=SALUS + "; " + TG_2012 + " (condom programmes)",
        adds_over_time=True,
    ),
    Indicator(
        code="NALOXONE_KITS_DISTRIBUTED",
        name=_("Naloxone kits distributed"),
        definition=_("Naloxone kits given in P."),
        numerator="Naloxone kits given in P",
        denominator="",
        kind=COUNT,
        unit="kits",
        source=SALUS + "; WHO. Community management of opioid overdose, 2014",
        adds_over_time=True,
    ),
    Indicator(
        code="OVERDOSE_REVERSALS",
        name=_("Overdoses reversed with naloxone"),
        definition=_("Overdoses reported in P where naloxone was given and the person survived."),
        numerator="Overdose events in P with naloxone given and outcome survived",
        denominator="",
        kind=COUNT,
        unit="overdoses",
        source=SALUS + "; WHO. Community management of opioid overdose, 2014",
        adds_over_time=True,
    ),
    Indicator(
        code="HIV_TESTS",
        name=_("HIV tests with a result given"),
        definition=_("HIV tests in P whose result was given to the person."),
        numerator="HIV tests with a result given in P",
        denominator="",
        kind=COUNT,
        unit="tests",
        source=SALUS,
        adds_over_time=True,
    ),
    Indicator(
        code="HIV_POSITIVITY",
        name=_("HIV test positivity"),
        definition=_("Positive HIV tests divided by HIV tests with a result given in P."),
        numerator="Positive HIV tests with a result given in P",
        denominator="HIV tests with a result given in P",
        kind=PROPORTION,
        source=SALUS,
        adds_over_time=True,
    ),
    Indicator(
        code="HCV_TESTS",
        name=_("Hepatitis C tests with a result given"),
        definition=_("Hepatitis C tests (antibody or RNA, as recorded) in P whose result was given."),
        numerator="HCV tests with a result given in P",
        denominator="",
        kind=COUNT,
        unit="tests",
        source=SALUS,
        adds_over_time=True,
    ),
    Indicator(
        code="HCV_POSITIVITY",
        name=_("Hepatitis C test positivity"),
        definition=_("Positive hepatitis C tests divided by tests with a result given in P."),
        numerator="Positive HCV tests with a result given in P",
        denominator="HCV tests with a result given in P",
        kind=PROPORTION,
        source=SALUS,
        adds_over_time=True,
    ),
    Indicator(
        code="REFERRAL_COMPLETION",
        name=_("Referrals completed"),
        definition=_("Referrals made in P that reached 'attended', divided by referrals made in P "
            "(status as recorded when the indicator is computed)."),
        numerator="Referrals made in P with status attended",
        denominator="Referrals made in P",
        kind=PROPORTION,
        source=SALUS,
        adds_over_time=True,
    ),
    Indicator(
        code="STOCKOUT_DAYS",
        name=_("Stock-out days"),
        definition=_("Days in P on which a site ended the day with zero or less of a tracked "
            "commodity, counted from the site's first movement of that commodity; per site and commodity."),
        numerator="Site-commodity days in P with an end-of-day balance of zero or less",
        denominator="",
        kind=COUNT,
        unit="site-commodity days",
        disaggregations=STOCK_CELLS,
        person_based=False,
        source=SALUS,
    ),
)

BY_CODE: dict[str, Indicator] = {i.code: i for i in CATALOGUE}
CODES: tuple[str, ...] = tuple(BY_CODE)


def catalogue() -> tuple[Indicator, ...]:
    """Every indicator, in catalogue order."""
    return CATALOGUE


def get(code: str) -> Indicator:
    """The indicator with ``code``; KeyError for an unknown code."""
    return BY_CODE[code]


def bands_for(code: str, overrides: dict | None = None) -> tuple[float, float] | None:
    """The (lower, upper) bounds of the medium band for ``code``, after program overrides."""
    if overrides and code in overrides:
        lo, hi = overrides[code]
        return float(lo), float(hi)
    return BY_CODE[code].bands


def level(value: float | None, bands: tuple[float, float] | None) -> str | None:
    """"low", "medium" or "high" for ``value`` (a lower bound belongs to its band)."""
    if value is None or bands is None:
        return None
    lo, hi = bands
    if value < lo:
        return "low"
    if value <= hi:
        return "medium"
    return "high"


def markdown() -> str:
    """The catalogue as the Markdown table section of docs/indicators.md."""
    lines = [
        "| Code | Name | Kind | Numerator | Programme-level denominator | Population (PSE) | Bands (medium) | Disaggregations | Source |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i in CATALOGUE:
        bands = f"{i.bands[0]:g} – {i.bands[1]:g}" if i.bands else ""
        lines.append(
            f"| `{i.code}` | {i.name} | {i.kind}{' (annualised)' if i.annualised else ''} | {i.numerator} "
            f"| {i.denominator or '(none)'} | {i.population or '(none)'} | {bands} "
            f"| {', '.join(i.disaggregations)} | {i.source} |"
        )
    lines.append("")
    lines.append("Definitions:")
    lines.append("")
    for i in CATALOGUE:
        lines.append(f"- `{i.code}`: {i.definition}")
    return "\n".join(lines) + "\n"


DOC_START = "<!-- catalogue:start (generated: python -m salus.indicators.catalogue --write) -->"
DOC_END = "<!-- catalogue:end -->"


def docs_block() -> str:
    """The generated part of docs/indicators.md, markers included."""
    return f"{DOC_START}\n{markdown()}{DOC_END}"


def update_docs(text: str) -> str:
    """``text`` (docs/indicators.md) with its generated catalogue block replaced."""
    head, _, rest = text.partition(DOC_START)
    _, _, tail = rest.partition(DOC_END)
    return head + docs_block() + tail


if __name__ == "__main__":  # pragma: no cover - regenerates the docs table
    import os
    import sys
    from pathlib import Path

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salus.settings")
    import django

    django.setup()
    if "--write" in sys.argv:
        page = Path(__file__).resolve().parents[3] / "docs" / "indicators.md"
        page.write_text(update_docs(page.read_text()))
        print(f"updated {page}")
    else:
        print(markdown(), end="")
