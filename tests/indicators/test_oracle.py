"""Differential test: every indicator of the catalogue against a plain-Python oracle.

Random small programs (clients with sex and birth year, three sites in two provinces, contacts
before, in and after the period, OST episodes with doses, referrals, overdoses, stock movements
and population size estimates, some missing) are written through the project's own actions.
The oracle below counts the same records again, in plain Python, from the definitions in the
indicator reference and docs/indicators.md only; every row of ``compute_indicators`` (the
total and every sex, age band, sex x age band, area and site cell; commodity cells for
stock-outs) must then carry the oracle's numerator, denominator, programme-level value,
population-level value with its range and level, and a note wherever a value is null. The
dashboards' month-by-month trend (``monthly_trend``) is held to the same oracle month by month.
On SQLite, both runners are checked: the database's own SQL (what a transaction gets) and
DuckDB over a copy of the database (what a served program gets).

The oracle works from the generated description of the program, not from the database, so a
write that stored something other than what was asked for shows up here too.
"""

from __future__ import annotations

import calendar
import datetime as dt
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from salus.indicators.catalogue import BY_CODE, CODES
from salus.indicators.engine import TREND_CODES, compute_indicators, monthly_trend
from salus.indicators.periods import Period, parse_period
from salus.indicators.sources import DuckDBRunner

pytestmark = pytest.mark.django_db

# Three sites: two districts of the north (so an area holds sites of different districts) and
# one in the south. Site codes order the tie between two contacts at the same moment.
SITE_AREAS = {"NA1": "XL/NORTH/N1", "NB2": "XL/NORTH/N2", "SB1": "XL/SOUTH/S1"}
SITE_CODES = tuple(sorted(SITE_AREAS))
# Some programs have a fourth site in another country: the program then has no single top
# area, and no population-level value of its own.
FOREIGN_SITE, FOREIGN_AREA = "ZC1", "ZL/C/C1"
AREA_OF = {**SITE_AREAS, FOREIGN_SITE: FOREIGN_AREA}
PSE_AREAS = ("XL", "XL/NORTH", "XL/NORTH/N1", "XL/SOUTH")
SCOPES = ({"area": "XL"}, {"area": "XL/NORTH"}, {"area": "XL/NORTH/N1"}, {"area": "XL/SOUTH"},
          {"site": "NA1"}, {"site": "SB1"})

SEXES = ("F", "M", "T", "X")
AGE_BANDS = ("<25", "25+", "unknown")
# Census year 2025 for every generated period: 2000 is 25 and 2001 is 24 (the band's edge).
BIRTH_YEARS = (None, 1975, 1999, 2000, 2001, 2004)
TEST_RESULTS = ("", "", "", "negative", "positive", "indeterminate", "not_given")
ART_STATUSES = ("", "", "on_art", "not_on_art")
REFERRAL_STATUSES = ("made", "attended", "not_attended", "lost")
COMMODITIES_MOVED_BY_HAND = ("syringe", "condom", "naloxone_kit", "hiv_test_kit")
# The package elements a program may configure whose meaning needs no interpretation.
PACKAGES = (("syringes", "condoms"), ("syringes",), ("syringes", "naloxone", "education"),
            ("condoms", "education"))

# The reference's indicator table, written out again here rather than read from the catalogue:
# which population size estimate a code divides by, and its coverage bands (lower and upper
# bound of "medium").
POPULATION = {
    "NSP_SYRINGES_PER_PWID": "pwid", "NSP_COVERAGE": "pwid", "HTS_PWID": "pwid", "PREVENTION_PACKAGE": "pwid",
    "OST_COVERAGE": "opioid_dependent", "ART_PWID": "pwid_hiv",
}
BANDS = {
    "NSP_SYRINGES_PER_PWID": (100, 200), "OST_COVERAGE": (0.2, 0.4), "HTS_PWID": (0.4, 0.75),
    "ART_PWID": (0.25, 0.75), "NSP_COVERAGE": (0.2, 0.6),
}
COUNTS = ("CLIENTS_REACHED", "NEW_CLIENTS", "CONTACTS", "SYRINGES_DISTRIBUTED", "CONDOMS_DISTRIBUTED",
          "NALOXONE_KITS_DISTRIBUTED", "OVERDOSE_REVERSALS", "HIV_TESTS", "HCV_TESTS", "STOCKOUT_DAYS")
# Indicators without a programme-level denominator that are not counts.
NO_PROGRAMME_DENOMINATOR = ("OST_COVERAGE",)
KINDS = {**dict.fromkeys(COUNTS, "count"), "NSP_SYRINGES_PER_PWID": "rate", "SYRINGE_RETURN_RATE": "ratio"}
ADEQUATE_DOSE_MG = {"methadone": Decimal(60), "buprenorphine": Decimal(8)}


# ---------------------------------------------------------------------------------------------
# The generated program, as plain data.


@dataclass(frozen=True)
class ClientSpec:
    number: int
    sex: str
    birth_year: int | None
    injects: bool

    @property
    def uic(self) -> str:
        # The default UIC recipe carries sex and birth year; a birth year of 0000 is not
        # recorded (the client's age band is then "unknown").
        return f"Q{chr(65 + self.number)}ZZ{self.birth_year or 0:04d}{self.sex}"


@dataclass
class ContactSpec:
    client: int
    site: str
    moment: dt.datetime
    syringes_given: int = 0
    syringes_returned: int = 0
    condoms_given: int = 0
    naloxone_kits_given: int = 0
    education: bool = False
    hiv_test_result: str = ""
    hcv_test_result: str = ""
    art_status: str = ""
    referral: tuple[str, str] | None = None  # (service, status recorded afterwards)

    @property
    def date(self) -> dt.date:
        return self.moment.date()  # the program's time zone is UTC


@dataclass
class EpisodeSpec:
    client: int
    site: str
    medication: str
    start: dt.date
    end: dt.date | None
    doses: list[tuple[dt.date, Decimal, str]] = field(default_factory=list)


@dataclass
class OverdoseSpec:
    client: int
    site: str
    date: dt.date
    naloxone_given: bool
    outcome: str


@dataclass
class MovementSpec:
    site: str
    commodity: str
    kind: str
    quantity: int
    date: dt.date


@dataclass
class ReferralSpec:
    """A referral recorded on its own (not in a contact)."""

    client: int
    site: str
    made_on: dt.date
    status: str


@dataclass
class PSESpec:
    area: str
    population: str
    year: int
    estimate: int
    low: int | None
    high: int | None


@dataclass
class ProgramSpec:
    period: Period
    as_of: dt.date
    scope: dict
    package: tuple[str, ...]
    clients: list[ClientSpec]
    contacts: list[ContactSpec]
    episodes: list[EpisodeSpec]
    overdoses: list[OverdoseSpec]
    movements: list[MovementSpec]
    pses: list[PSESpec]
    referrals: list[ReferralSpec] = field(default_factory=list)
    foreign_site: bool = False
    untracked: tuple[str, ...] = ()  # commodities not tracked for stock-outs

    @property
    def site_codes(self) -> tuple[str, ...]:
        return SITE_CODES + ((FOREIGN_SITE,) if self.foreign_site else ())


def _aware(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


@st.composite
def programs(draw, period_labels: tuple[str, ...]) -> ProgramSpec:
    """A small random program around one period of ``period_labels``."""
    period = parse_period(draw(st.sampled_from(period_labels)))
    # After the period (including the days around a cohort's day 182) or inside it: then the
    # as-of date stands in for the census date, and records dated after it still exist (a
    # computation "as of" a past day).
    if draw(st.sampled_from(("over", "over", "not over"))) == "over":
        as_of = period.end + dt.timedelta(days=draw(st.sampled_from((1, 100, 181, 182, 183, 400))))
    else:
        as_of = period.start + dt.timedelta(days=draw(st.integers(0, period.days - 1)))
    # Records fall from before the period (first contacts, running OST, stock) to after it.
    first_day = period.start - dt.timedelta(days=75)
    span = (period.end - first_day).days + 40

    def day(offset: int) -> dt.date:
        return first_day + dt.timedelta(days=offset)

    foreign_site = draw(st.sampled_from((False, False, False, True)))
    site_codes = SITE_CODES + ((FOREIGN_SITE,) if foreign_site else ())
    clients = [
        ClientSpec(n, draw(st.sampled_from(SEXES)), draw(st.sampled_from(BIRTH_YEARS)),
                   draw(st.sampled_from((True, True, False))))
        for n in range(draw(st.integers(1, 6)))
    ]
    contact_fields = st.fixed_dictionaries({
        "site": st.sampled_from(site_codes),
        "day": st.integers(0, span),
        "hour": st.integers(8, 17),
        "syringes_given": st.sampled_from((0, 0, 1, 3, 10)),
        "syringes_returned": st.sampled_from((0, 0, 2, 5)),
        "condoms_given": st.sampled_from((0, 0, 2)),
        "naloxone_kits_given": st.sampled_from((0, 0, 1)),
        "education": st.booleans(),
        "hiv_test_result": st.sampled_from(TEST_RESULTS),
        "hcv_test_result": st.sampled_from(TEST_RESULTS),
        "art_status": st.sampled_from(ART_STATUSES),
        "referral": st.one_of(st.none(), st.tuples(st.sampled_from(("ost", "hiv_care", "housing")),
                                                   st.sampled_from(REFERRAL_STATUSES))),
    })
    contacts: list[ContactSpec] = []
    for client in clients:
        for f in draw(st.lists(contact_fields, min_size=1, max_size=4)):
            contacts.append(ContactSpec(
                client=client.number, site=f.pop("site"), moment=_aware(day(f.pop("day")), f.pop("hour")), **f))
    # A client given syringes month after month (sometimes missing one), so that NSP_REGULAR
    # has people in its numerator.
    if draw(st.booleans()):
        regular = ClientSpec(len(clients), draw(st.sampled_from(SEXES)), draw(st.sampled_from(BIRTH_YEARS)), True)
        clients.append(regular)
        for year, month in period.months():
            if draw(st.sampled_from((True, True, True, False))):
                last = calendar.monthrange(year, month)[1]
                contacts.append(ContactSpec(
                    client=regular.number, site=draw(st.sampled_from(site_codes)),
                    moment=_aware(dt.date(year, month, draw(st.integers(1, last))), draw(st.integers(8, 17))),
                    syringes_given=draw(st.sampled_from((1, 5))), condoms_given=draw(st.sampled_from((0, 2)))))
        if not any(c.client == regular.number for c in contacts):
            contacts.append(ContactSpec(client=regular.number, site=SITE_CODES[0],
                                        moment=_aware(period.start, 9), syringes_given=1))
    # One client's moments never coincide (a later one moves a minute on), so "latest" and
    # "first" are unambiguous; the twin below is the one deliberate tie.
    seen: set[tuple[int, dt.datetime]] = set()
    for c in contacts:
        while (c.client, c.moment) in seen:
            c.moment += dt.timedelta(minutes=1)
        seen.add((c.client, c.moment))
    if draw(st.booleans()):
        # A second contact of the same client at another site at the same moment: the client
        # belongs to the greater site code (docs/indicators.md, "One cell per client").
        # It doubles some client's last contact in the period, where the tie decides the cell.
        in_period = [c for c in contacts if period.start <= c.date <= period.end]
        last = {c.client: c for c in sorted(in_period, key=lambda c: c.moment)}
        original = draw(st.sampled_from(sorted(last.values(), key=lambda c: c.client) or contacts))
        other = draw(st.sampled_from([s for s in site_codes if s != original.site]))
        contacts.append(ContactSpec(client=original.client, site=other, moment=original.moment, syringes_given=1))

    episodes: list[EpisodeSpec] = []
    census = min(period.end, as_of)
    # Episodes start anywhere, or on the days the definitions turn on: the census date, the
    # last and first days of induction before it, and the period's first and last days.
    starts = st.one_of(st.integers(0, span).map(day), st.sampled_from((
        census, census - dt.timedelta(days=13), census - dt.timedelta(days=14), period.start, period.end)))
    # None: still open; "census": ends on the census date; else days after the start (181,
    # 182 and 183 straddle the retention cut-off).
    durations = (None, "census", 0, 10, 30, 181, 182, 183, 300)
    for client in clients:
        start = draw(starts)
        site = draw(st.sampled_from(site_codes))
        for _n in range(draw(st.sampled_from((0, 1, 1, 2)))):
            duration = draw(st.sampled_from(durations))
            if duration == "census":
                end = max(start, census)
            else:
                end = None if duration is None else start + dt.timedelta(days=duration)
            episode = EpisodeSpec(client.number, site, draw(st.sampled_from(("methadone", "methadone",
                                                                            "buprenorphine", "other"))),
                                  start, end)
            dose_days: set[dt.date] = set()
            for offset, mg, phase in draw(st.lists(st.tuples(
                    st.sampled_from((0, 5, 13, 14, 20, 60, 200)),
                    st.sampled_from((4, 8, 12, 30, 59, 60, 80, 120)),
                    st.sampled_from(("induction", "maintenance", "maintenance", "maintenance", "reducing"))),
                    max_size=3)):
                when = start + dt.timedelta(days=offset)
                if (end is None or when <= end) and when not in dose_days:
                    dose_days.add(when)
                    episode.doses.append((when, Decimal(mg), phase))
            episodes.append(episode)
            if end is None:
                break  # a client has at most one open episode
            # The next episode starts on the day this one ends (then at the same site: the
            # client is counted once) or later.
            gap = draw(st.sampled_from((0, 1, 40)))
            start = end + dt.timedelta(days=gap)
            if gap:
                site = draw(st.sampled_from(site_codes))

    overdoses = [
        OverdoseSpec(draw(st.sampled_from(clients)).number, draw(st.sampled_from(site_codes)),
                     day(draw(st.integers(0, span))), draw(st.booleans()),
                     draw(st.sampled_from(("survived", "died", "unknown"))))
        for _n in range(draw(st.integers(0, 3)))
    ]
    movements = []
    for _n in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(("receipt", "adjustment")))
        quantity = draw(st.sampled_from((1, 5, 30) if kind == "receipt" else (-20, -5, -1, 3)))
        movements.append(MovementSpec(draw(st.sampled_from(site_codes)), draw(st.sampled_from(COMMODITIES_MOVED_BY_HAND)),
                                      kind, quantity, day(draw(st.integers(0, span)))))
    referrals = [
        ReferralSpec(draw(st.sampled_from(clients)).number, draw(st.sampled_from(site_codes)),
                     day(draw(st.integers(0, span))), draw(st.sampled_from(REFERRAL_STATUSES)))
        for _n in range(draw(st.integers(0, 2)))
    ]
    pses: dict[tuple[str, str, int], PSESpec] = {}
    for _n in range(draw(st.integers(0, 4))):
        area = draw(st.sampled_from(PSE_AREAS))
        population = draw(st.sampled_from(("pwid", "pwid", "opioid_dependent", "pwid_hiv")))
        # Mostly the year the period ends in; sometimes the year before (never used).
        year = period.end.year - draw(st.sampled_from((0, 0, 1)))
        estimate = draw(st.sampled_from((1, 2, 4, 5, 10, 40, 200)))
        ranged = draw(st.booleans())
        pses[(area, population, year)] = PSESpec(
            area, population, year, estimate,
            low=max(1, estimate * 4 // 5) if ranged else None, high=estimate * 5 // 4 + 1 if ranged else None)
    return ProgramSpec(
        period=period, as_of=as_of, scope=draw(st.sampled_from(SCOPES)), package=draw(st.sampled_from(PACKAGES)),
        clients=clients, contacts=contacts, episodes=episodes, overdoses=overdoses, movements=movements,
        pses=list(pses.values()), referrals=referrals, foreign_site=foreign_site,
        # Sometimes condoms are not tracked for stock-outs (a program's choice).
        untracked=draw(st.sampled_from(((), (), ("condom",)))),
    )


# ---------------------------------------------------------------------------------------------
# Writing the program through the project's actions.


@pytest.fixture
def sites(program) -> dict:
    """The shared program's two sites and a third, NB2, in another district of the north."""
    from salus.core.actions import do_ensure_area_path, do_save_site

    nb2, _ = do_save_site("test", code="NB2", name="North second", area=do_ensure_area_path("test", "XL/NORTH/N2"),
                          kind="drop_in")
    return {"NA1": program.site_a, "NB2": nb2, "SB1": program.site_b}


@pytest.fixture
def package_config(tmp_path, monkeypatch):
    """Write the program's defined prevention package for one generated program."""
    from salus.core.config import reset_cache

    path = tmp_path / "program.toml"
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(path))

    def write(package: tuple[str, ...]) -> None:
        path.write_text("defined_package = [" + ", ".join(f'"{p}"' for p in package) + "]\n")
        reset_cache()

    yield write
    reset_cache()


def record_program(spec: ProgramSpec, sites: dict, record_contact) -> None:
    from salus.core.actions import do_ensure_area_path, do_save_site
    from salus.core.models import Area, PopulationSizeEstimate
    from salus.services.actions import (
        do_create_referral,
        do_end_ost_episode,
        do_record_dose,
        do_record_overdose,
        do_start_ost_episode,
        do_update_referral,
    )
    from salus.stock.actions import do_record_stock_movement
    from salus.stock.models import Commodity

    if spec.foreign_site:
        sites = {**sites, FOREIGN_SITE: do_save_site("test", code=FOREIGN_SITE, name="Abroad",
                                                     area=do_ensure_area_path("test", FOREIGN_AREA), kind="outreach")[0]}
    Commodity.objects.filter(code__in=spec.untracked).update(tracked=False)
    by_number = {c.number: c for c in spec.clients}
    clients = {}
    for c in sorted(spec.contacts, key=lambda c: c.moment):
        who = by_number[c.client]
        contact = record_contact(
            sites[c.site], who.uic, when=c.moment, injects=who.injects,
            syringes_given=c.syringes_given, syringes_returned=c.syringes_returned, condoms_given=c.condoms_given,
            naloxone_kits_given=c.naloxone_kits_given, education=c.education, hiv_test_result=c.hiv_test_result,
            hcv_test_result=c.hcv_test_result, art_status=c.art_status,
            referrals=[c.referral[0]] if c.referral else [],
        )
        clients[c.client] = contact.client
        if c.referral and c.referral[1] != "made":
            do_update_referral("test", contact.referrals.get(), status=c.referral[1],
                               outcome_on=c.date + dt.timedelta(days=3))
    for r in spec.referrals:
        referral = do_create_referral("test", client=clients[r.client], site=sites[r.site], service="hcv_care",
                                      made_on=r.made_on)
        if r.status != "made":
            do_update_referral("test", referral, status=r.status, outcome_on=r.made_on + dt.timedelta(days=1))
    for e in spec.episodes:
        episode = do_start_ost_episode("test", client=clients[e.client], site=sites[e.site], medication=e.medication,
                                       start_date=e.start)
        for when, mg, phase in e.doses:
            do_record_dose("test", episode, date=when, dose_mg=mg, phase=phase)
        if e.end is not None:
            do_end_ost_episode("test", episode, end_date=e.end, end_reason="voluntary")
    for o in spec.overdoses:
        do_record_overdose("test", client=clients[o.client], site=sites[o.site], date=o.date, involvement="witnessed",
                           naloxone_given=o.naloxone_given, naloxone_kits_used=1 if o.naloxone_given else 0,
                           outcome=o.outcome, emergency_called=False)
    for m in spec.movements:
        do_record_stock_movement("test", site=sites[m.site], commodity=Commodity.objects.get(code=m.commodity),
                                 kind=m.kind, quantity=m.quantity, occurred_on=m.date)
    for p in spec.pses:
        PopulationSizeEstimate.objects.create(area=Area.objects.get(path=p.area), population=p.population,
                                              year=p.year, estimate=p.estimate, low=p.low, high=p.high,
                                              method="multiplier", source="generated")


# ---------------------------------------------------------------------------------------------
# The oracle.

Cell = tuple[tuple[str, str], ...]  # a disaggregation as sorted (dimension, value) pairs


def cell(**dims: str) -> Cell:
    return tuple(sorted(dims.items()))


@dataclass
class Expected:
    """The oracle's figures for one indicator: numerator and denominator per cell."""

    numerator: Counter = field(default_factory=Counter)
    denominator: Counter = field(default_factory=Counter)


class Oracle:
    """The reference's definitions, counted directly over the generated program.

    ``scope`` is ``{}`` (whole program), ``{"area": path}`` or ``{"site": code}``.
    """

    def __init__(self, spec: ProgramSpec, scope: dict):
        self.spec = spec
        self.scope = scope
        period = spec.period
        self.start, self.end = period.start, period.end
        # The census date is the period's last day; for a period not over on the as-of date,
        # the as-of date (docs/indicators.md, Conventions).
        self.census = min(period.end, spec.as_of)
        if "site" in scope:
            self.sites = {scope["site"]}
        elif "area" in scope:
            self.sites = {s for s in spec.site_codes
                          if AREA_OF[s] == scope["area"] or AREA_OF[s].startswith(scope["area"] + "/")}
        else:
            self.sites = set(spec.site_codes)
        self.clients = {c.number: c for c in spec.clients}
        self.figures: dict[str, Expected] = defaultdict(Expected)
        self._count()

    # -- cells ------------------------------------------------------------------------------

    def age_band(self, client: ClientSpec) -> str:
        if client.birth_year is None:
            return "unknown"
        return "<25" if self.census.year - client.birth_year <= 24 else "25+"

    def cells_of(self, client_number: int, site: str) -> list[Cell]:
        """Every cell a person-based count at ``site`` adds to: the total, sex, age band,
        sex x age band, the site's own area, and the site."""
        client = self.clients[client_number]
        sex, age = client.sex, self.age_band(client)
        return [cell(), cell(sex=sex), cell(age=age), cell(sex=sex, age=age), cell(area=AREA_OF[site]),
                cell(area=AREA_OF[site], site=site)]

    def add(self, code: str, client_number: int, site: str, numerator: int = 0, denominator: int = 0) -> None:
        for key in self.cells_of(client_number, site):
            self.figures[code].numerator[key] += numerator
            self.figures[code].denominator[key] += denominator

    # -- counting ---------------------------------------------------------------------------

    def in_period(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def _count(self) -> None:
        spec = self.spec
        contacts = [c for c in spec.contacts if c.site in self.sites and self.in_period(c.date)]
        by_client: dict[int, list[ContactSpec]] = defaultdict(list)
        for c in contacts:
            by_client[c.client].append(c)

        # Contact-level counts go to the contact's site.
        for c in contacts:
            self.add("CONTACTS", c.client, c.site, numerator=1)
            self.add("SYRINGES_DISTRIBUTED", c.client, c.site, numerator=c.syringes_given)
            self.add("CONDOMS_DISTRIBUTED", c.client, c.site, numerator=c.condoms_given)
            self.add("NALOXONE_KITS_DISTRIBUTED", c.client, c.site, numerator=c.naloxone_kits_given)
            self.add("SYRINGE_RETURN_RATE", c.client, c.site, numerator=c.syringes_returned,
                     denominator=c.syringes_given)
            # Syringes given at the sites in scope, whoever received them (reference table).
            self.add("NSP_SYRINGES_PER_PWID", c.client, c.site, numerator=c.syringes_given)
            for test, tests_code, positivity_code in (("hiv_test_result", "HIV_TESTS", "HIV_POSITIVITY"),
                                                      ("hcv_test_result", "HCV_TESTS", "HCV_POSITIVITY")):
                result = getattr(c, test)
                # "not given" is not a test with a result; "indeterminate" is, and is not positive.
                if result in ("negative", "positive", "indeterminate"):
                    self.add(tests_code, c.client, c.site, numerator=1)
                    self.add(positivity_code, c.client, c.site, numerator=int(result == "positive"), denominator=1)
            if c.referral:
                # A referral is made at the contact's site on its date; completion is its
                # status now.
                self.add("REFERRAL_COMPLETION", c.client, c.site, numerator=int(c.referral[1] == "attended"),
                         denominator=1)
        for r in spec.referrals:
            if r.site in self.sites and self.in_period(r.made_on):
                self.add("REFERRAL_COMPLETION", r.client, r.site, numerator=int(r.status == "attended"), denominator=1)

        # Client-level counts: one cell per client, the site of their last contact in the
        # period (ties at the same moment: the greater site code).
        # Each client's first-ever contact, at any site: its moment and site (ties at the same
        # moment: the lesser site code).
        first_ever: dict[int, tuple[dt.datetime, str]] = {}
        for c in spec.contacts:
            first_ever[c.client] = min(first_ever.get(c.client, (c.moment, c.site)), (c.moment, c.site))
        months = [(y, m) for y, m in self.spec.period.months() if dt.date(y, m, 1) <= self.census]
        for number, own in by_client.items():
            client = self.clients[number]
            site = max((c.moment, c.site) for c in own)[1]
            self.add("CLIENTS_REACHED", number, site, numerator=1)

            # New: the first-ever contact is in the period, at a site in scope; counted at that
            # site, on every page (so a client first seen at two sites on one day is new at the
            # first of them only, and new clients add up across places).
            first_moment, first_site = first_ever[number]
            if self.in_period(first_moment.date()) and first_site in self.sites:
                self.add("NEW_CLIENTS", number, first_site, numerator=1)

            if not client.injects:
                continue
            syringes = sum(c.syringes_given for c in own)
            got_syringes = int(syringes > 0)
            self.add("NSP_COVERAGE", number, site, numerator=got_syringes, denominator=1)
            self.add("NSP_SYRINGES_PER_PWID", number, site, denominator=got_syringes)
            # Every month of the period up to the census date, from what was known on that date:
            # syringes given after it (an as-of date inside the period) do not count.
            months_with_syringes = {(c.date.year, c.date.month) for c in own
                                    if c.syringes_given and c.date <= self.census}
            self.add("NSP_REGULAR", number, site, numerator=int(got_syringes and set(months) <= months_with_syringes),
                     denominator=got_syringes)
            tested = any(c.hiv_test_result in ("negative", "positive", "indeterminate") for c in own)
            self.add("HTS_PWID", number, site, numerator=int(tested), denominator=1)
            received = {
                "syringes": syringes > 0,
                "condoms": any(c.condoms_given for c in own),
                "naloxone": any(c.naloxone_kits_given for c in own),
                "education": any(c.education for c in own),
            }
            self.add("PREVENTION_PACKAGE", number, site, numerator=int(all(received[p] for p in spec.package)),
                     denominator=1)
            # Known to live with HIV by the census date, from any site: a positive result given
            # or an ART status "on ART"; on ART when the latest recorded status by then says so.
            history = sorted((c for c in spec.contacts if c.client == number and c.date <= self.census),
                             key=lambda c: c.moment)
            known_positive = any(c.hiv_test_result == "positive" or c.art_status == "on_art" for c in history)
            statuses = [c.art_status for c in history if c.art_status]
            if known_positive:
                self.add("ART_PWID", number, site, numerator=int(bool(statuses) and statuses[-1] == "on_art"),
                         denominator=1)

        self._count_ost()
        for o in spec.overdoses:
            if o.site in self.sites and self.in_period(o.date) and o.naloxone_given and o.outcome == "survived":
                self.add("OVERDOSE_REVERSALS", o.client, o.site, numerator=1)
        self._count_stockouts()

    def _count_ost(self) -> None:
        census = self.census
        in_scope = [e for e in self.spec.episodes if e.site in self.sites]
        active: dict[int, list[EpisodeSpec]] = defaultdict(list)
        for e in in_scope:
            # Started on or before the census date and not ended before it.
            if e.start <= census and (e.end is None or e.end >= census):
                active[e.client].append(e)
        for number, episodes in active.items():
            latest = max(episodes, key=lambda e: e.start)
            # The generator keeps a client's two active episodes at one site.
            self.add("OST_COVERAGE", number, latest.site, numerator=1)
            if latest.medication not in ADEQUATE_DOSE_MG:
                continue  # no adequate dose is defined for other medication
            if (census - latest.start).days < 14:
                continue  # induction: the first 14 days of the episode
            doses = [d for d in latest.doses if d[0] <= census]
            dose = max(doses) if doses else None
            if dose is not None and dose[2] in ("induction", "reducing"):
                continue
            # No dose recorded: in the denominator, not adequate.
            adequate = dose is not None and dose[1] >= ADEQUATE_DOSE_MG[latest.medication]
            self.add("OST_MIN_DOSE", number, latest.site, numerator=int(adequate), denominator=1)
        for e in in_scope:
            day_182 = e.start + dt.timedelta(days=182)
            if self.in_period(e.start) and day_182 <= self.spec.as_of:
                retained = e.end is None or e.end >= day_182
                self.add("OST_RETENTION_6M", e.client, e.site, numerator=int(retained), denominator=1)

    def _count_stockouts(self) -> None:
        # Every movement: the ones recorded by hand and the ones each contact makes (syringes,
        # condoms, naloxone kits and one test kit per test done, whatever its result).
        moves: dict[tuple[str, str], list[tuple[dt.date, int]]] = defaultdict(list)
        for m in self.spec.movements:
            moves[(m.site, m.commodity)].append((m.date, m.quantity))
        for c in self.spec.contacts:
            for commodity, quantity in (("syringe", c.syringes_given), ("condom", c.condoms_given),
                                        ("naloxone_kit", c.naloxone_kits_given),
                                        ("hiv_test_kit", int(bool(c.hiv_test_result))),
                                        ("hcv_test_kit", int(bool(c.hcv_test_result)))):
                if quantity:
                    moves[(c.site, commodity)].append((c.date, -quantity))
        figures = self.figures["STOCKOUT_DAYS"].numerator
        for (site, commodity), items in moves.items():
            if site not in self.sites or commodity in self.spec.untracked:
                continue
            first_move = min(d for d, _q in items)
            days = 0
            day = max(self.start, first_move)
            while day <= self.end:
                if sum(q for d, q in items if d <= day) <= 0:
                    days += 1
                day += dt.timedelta(days=1)
            for key in (cell(), cell(commodity=commodity), cell(area=AREA_OF[site], site=site, commodity=commodity)):
                figures[key] += days

    # -- population size estimates ----------------------------------------------------------

    def estimate(self, population: str) -> PSESpec | None:
        """The PSE of the scope's own area for the year the period ends in, or None."""
        if "site" in self.scope:
            return None  # a single site has no population-level value
        if "area" in self.scope:
            area = self.scope["area"]
        else:
            # The whole program: the PSE of its single top area, when every site lies under one.
            tops = {AREA_OF[s].split("/")[0] for s in self.spec.site_codes}
            if len(tops) > 1:
                return None
            (area,) = tops
        for p in self.spec.pses:
            if p.area == area and p.population == population and p.year == self.end.year:
                return p
        return None


def level(value: float | None, bands: tuple[float, float] | None) -> str | None:
    """The reference's bands: a lower bound belongs to its band, "high" is strictly above."""
    if value is None or bands is None:
        return None
    low, high = bands
    if value < low:
        return "low"
    return "medium" if value <= high else "high"


# ---------------------------------------------------------------------------------------------
# The comparison.


def approx(value):
    if value is None or isinstance(value, str):
        return value
    return pytest.approx(value, rel=1e-9, abs=1e-12)


def expected_row(oracle: Oracle, code: str, key: Cell) -> dict:
    """The fields of one row as the oracle computes them."""
    figures = oracle.figures[code]
    numerator = figures.numerator[key]
    denominator = figures.denominator[key]
    row = {"kind": KINDS.get(code, "proportion"), "numerator": numerator, "denominator": None,
           "programme_value": None, "value": None, "value_low": None, "value_high": None, "level": None,
           "population_denominator": None}
    if code in COUNTS:
        row.update(programme_value=numerator, value=numerator)
        return row
    # NSP_SYRINGES_PER_PWID is per year: scaled by 365 / days in the period.
    scaled = numerator * 365 / oracle.spec.period.days if code == "NSP_SYRINGES_PER_PWID" else numerator
    if code not in NO_PROGRAMME_DENOMINATOR:
        row["denominator"] = denominator
        row["programme_value"] = scaled / denominator if denominator else None
    if code not in POPULATION:
        row["value"] = row["programme_value"]
        return row
    # Population-level values: the total cell only, with the PSE of the scope's own area.
    pse = oracle.estimate(POPULATION[code]) if key == () else None
    if pse is not None:
        row["population_denominator"] = pse.estimate
        row["value"] = scaled / pse.estimate
        if pse.low is not None and pse.high is not None:
            # value_low is the smaller value, at the estimate's high bound.
            row["value_low"], row["value_high"] = scaled / pse.high, scaled / pse.low
        row["level"] = level(row["value"], BANDS.get(code))
    return row


def client_cells() -> set[Cell]:
    """The sex, age band and sex x age cells every client-based table must hold, zeros included."""
    keys = {cell()}
    keys |= {cell(sex=s) for s in SEXES} | {cell(age=a) for a in AGE_BANDS}
    keys |= {cell(sex=s, age=a) for s in SEXES for a in AGE_BANDS}
    return keys


def compare(spec: ProgramSpec, scope: dict, rows: list[dict], codes: tuple[str, ...] = CODES) -> list[str]:
    """Every row of ``rows`` (the indicators ``codes``) against the oracle; returns the
    differences, one line each."""
    oracle = Oracle(spec, scope)
    problems: list[str] = []
    got: dict[str, dict[Cell, dict]] = defaultdict(dict)
    for row in rows:
        key = cell(**row["disaggregation"])
        if key in got[row["code"]]:
            problems.append(f"{row['code']} {key}: two rows")
        got[row["code"]][key] = row
        if (row["period"], row["area"], row["site"]) != (spec.period.label, scope.get("area"), scope.get("site")):
            problems.append(f"{row['code']} {key}: period, area or site {row['period'], row['area'], row['site']}")
    if set(got) != set(codes):
        problems.append(f"codes computed: {sorted(set(got) ^ set(codes))} differ from {codes}")

    for code in codes:
        figures = oracle.figures[code]
        with_figures = {k for k in set(figures.numerator) | set(figures.denominator)
                        if figures.numerator[k] or figures.denominator[k]}
        # Every table holds its total and, for people, every sex and age band cell (zeros
        # included); area, site and commodity cells may be left out when all zero.
        required = {cell()} if code == "STOCKOUT_DAYS" else client_cells()
        missing = (required | with_figures) - set(got[code])
        if missing:
            problems.append(f"{code}: cells missing {sorted(missing)}")
        for key, row in sorted(got[code].items()):
            dims = dict(key)
            if "site" in dims and (dims["site"] not in oracle.sites or dims["area"] != AREA_OF[dims["site"]]):
                problems.append(f"{code} {key}: a site cell outside the scope")
            elif "area" in dims and dims["area"] not in {AREA_OF[s] for s in oracle.sites}:
                problems.append(f"{code} {key}: an area cell outside the scope")
            want = expected_row(oracle, code, key)
            for name, value in want.items():
                if row[name] != approx(value):
                    problems.append(f"{code} {key} {name}: engine {row[name]!r}, oracle {value!r}")
            # A null value says why.
            if row["value"] is None and not row["note"]:
                problems.append(f"{code} {key}: null value without a note")
            if key == () and row["value_low"] is not None:
                ends = (level(row["value_low"], BANDS.get(code)), level(row["value_high"], BANDS.get(code)))
                if ends[0] != ends[1] and not all(e in row["note"] for e in ends):
                    # The note says when the level changes across the estimate's range.
                    problems.append(f"{code}: level {ends[0]} to {ends[1]} across the range, note {row['note']!r}")
    return problems


def describe(spec: ProgramSpec) -> str:
    """The generated program in readable lines (printed with a failing example)."""
    lines = [f"period {spec.period.label}, as of {spec.as_of}, scope {spec.scope}, package {spec.package}"]
    lines += [f"  client {c.number}: {c.uic} injects={c.injects}" for c in spec.clients]
    for c in sorted(spec.contacts, key=lambda c: (c.client, c.moment)):
        given_ = {k: v for k, v in vars(c).items() if k not in ("client", "site", "moment") and v}
        lines.append(f"  contact client {c.client} at {c.site} {c.moment:%Y-%m-%d %H:%M} {given_}")
    lines += [f"  OST {e}" for e in spec.episodes]
    lines += [f"  overdose {o}" for o in spec.overdoses]
    lines += [f"  stock {m}" for m in spec.movements]
    lines += [f"  referral {r}" for r in spec.referrals]
    lines += [f"  PSE {p}" for p in spec.pses]
    lines.append(f"  foreign site {spec.foreign_site}, untracked {spec.untracked}")
    return "\n".join(lines)


def check_program(spec: ProgramSpec, sites: dict, record_contact, package_config) -> None:
    """Write ``spec``, compute the whole program and one drawn scope, compare with the oracle."""
    note(describe(spec))
    package_config(spec.package)
    with transaction.atomic():
        record_program(spec, sites, record_contact)
        problems = []
        for scope in ({}, spec.scope):
            rows = compute_indicators(spec.period.label, as_of=spec.as_of, **scope)
            problems += [f"scope {scope or 'program'}: {p}" for p in compare(spec, scope, rows)]
        if connection.vendor == "sqlite":
            # The DuckDB runner too (what a served program uses), over a copy of the database
            # as this transaction sees it: the native runner is the one a transaction gets.
            with tempfile.TemporaryDirectory() as folder:
                for scope in ({}, spec.scope):
                    with DuckDBRunner(_copy_of_database(Path(folder))) as runner:
                        rows = compute_indicators(spec.period.label, as_of=spec.as_of, runner=runner, **scope)
                    problems += [f"DuckDB, scope {scope or 'program'}: {p}" for p in compare(spec, scope, rows)]
        transaction.set_rollback(True)
    assert not problems, "\n".join(problems)


def _copy_of_database(folder: Path) -> dict:
    """The test database, uncommitted rows of this connection included, copied to a file."""
    path = folder / "copy.sqlite3"
    # serialize() reads the pages as this connection sees them; a backup would wait for the
    # transaction to end.
    path.write_bytes(connection.connection.serialize())
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}


def edge_program(label: str) -> ProgramSpec:
    """A hand-made program with records on the edges the definitions draw, for ``label``.

    Ties of the last contact between two sites, a client first seen at two sites on one day,
    the age band edge, an unknown birth year, a first contact before the period, results "indeterminate" and "not given", OST episodes
    starting on the census date, ending on it and the day before, on the 14th and 15th day of
    treatment, retained exactly to day 182 and one day short, doses at 60 mg methadone and 8 mg
    buprenorphine, other medication, a stock-out starting inside the period; and population size
    estimates that put the coverage values exactly on the bounds of the coverage bands.
    """
    period = parse_period(label)
    start, census = period.start, period.end
    # The cohort of episodes started in the period closes on the as-of date: one starts on
    # the census date, so its day 182 is the as-of date itself.
    as_of = census + dt.timedelta(days=182)

    def on(day: dt.date, days: int = 0) -> dt.date:
        return day + dt.timedelta(days=days)

    clients = [
        ClientSpec(0, "F", 2001, True), ClientSpec(1, "M", 2000, True), ClientSpec(2, "T", None, True),
        ClientSpec(3, "X", 1975, False), ClientSpec(4, "F", 1999, True), ClientSpec(5, "M", 2004, True),
        ClientSpec(6, "F", 1999, False), ClientSpec(7, "M", 1999, False), ClientSpec(8, "T", 1980, False),
        ClientSpec(9, "X", 1980, False), ClientSpec(10, "F", 1980, False), ClientSpec(11, "M", 1990, False),
        ClientSpec(12, "F", 1990, False),
    ]
    contacts = [
        ContactSpec(0, "NA1", _aware(start, 10), syringes_given=5, condoms_given=2, education=True,
                    hiv_test_result="positive", art_status="on_art", referral=("hiv_care", "lost")),
        # The last contact at two sites at the same moment: the client belongs to SB1.
        ContactSpec(0, "NA1", _aware(census, 16), syringes_given=1),
        ContactSpec(0, "SB1", _aware(census, 16), syringes_given=1),
        ContactSpec(0, "NB2", _aware(on(census, 5), 9), art_status="not_on_art"),  # after the census date
        # First seen before the period (not new), known HIV-positive from then, no ART recorded.
        ContactSpec(1, "NB2", _aware(on(start, -10), 9), syringes_given=2, hiv_test_result="positive"),
        ContactSpec(1, "NA1", _aware(on(start, 1), 9), syringes_given=3, hiv_test_result="indeterminate"),
        ContactSpec(2, "SB1", _aware(on(start, 3), 9), condoms_given=2, hcv_test_result="positive",
                    art_status="on_art", referral=("ost", "attended")),
        ContactSpec(2, "SB1", _aware(on(start, 4), 9), hiv_test_result="not_given", hcv_test_result="indeterminate"),
        # Not injecting: their syringes count as given, not in the PWID denominators.
        ContactSpec(3, "NB2", _aware(on(start, 5), 9), syringes_given=10, syringes_returned=12,
                    referral=("housing", "made")),
        ContactSpec(4, "NB2", _aware(on(start, 6), 9), education=True, hcv_test_result="negative",
                    art_status="on_art", referral=("housing", "not_attended")),
    ]
    # First seen at two sites on one day: new at the first of them only (SB1), on every page,
    # NA1's included. First seen at two sites at the same moment: new at the lesser code (NA1).
    contacts += [ContactSpec(11, "SB1", _aware(on(start, 7), 8)), ContactSpec(11, "NA1", _aware(on(start, 7), 10)),
                 ContactSpec(12, "NB2", _aware(on(start, 8), 9)), ContactSpec(12, "NA1", _aware(on(start, 8), 9))]
    # Clients seen only before the period, for their OST episodes.
    contacts += [ContactSpec(n, "NB2", _aware(on(start, -40), 9)) for n in (6, 7, 8, 9, 10)]
    # Syringes on the first day of every month of the period: reached every month.
    contacts += [ContactSpec(5, "NA1", _aware(dt.date(y, m, 1), 11), syringes_given=1) for y, m in period.months()]
    mg = Decimal
    episodes = [
        # The 15th day of treatment on the census date: past induction; 60 mg is adequate.
        EpisodeSpec(0, "NA1", "methadone", on(census, -14), None,
                    [(on(census, -14), mg(30), "induction"), (on(census, -1), mg(60), "maintenance")]),
        # The 14th day: still in induction.
        EpisodeSpec(1, "NB2", "methadone", on(census, -13), None, [(on(census, -13), mg(30), "induction")]),
        # Ends on the census date (counted); 8 mg buprenorphine is adequate.
        EpisodeSpec(2, "SB1", "buprenorphine", on(start, -30), census, [(on(start, -20), mg(8), "maintenance")]),
        # Other medication: no adequate dose is defined.
        EpisodeSpec(3, "NB2", "other", on(start, -5), None),
        # Ends on the census date and the next one starts that day at the same site: counted
        # once, and the latest episode (in induction) is the one whose dose counts.
        EpisodeSpec(4, "NA1", "methadone", on(start, -200), census, [(on(start, -50), mg(80), "maintenance")]),
        EpisodeSpec(4, "NA1", "methadone", census, None),
        # Ends the day before the census date: not on OST that day.
        EpisodeSpec(8, "NB2", "methadone", on(start, -60), on(census, -1), [(on(start, -50), mg(80), "maintenance")]),
        # 59 mg methadone is not adequate; 12 mg buprenorphine is.
        EpisodeSpec(9, "SB1", "methadone", on(start, -30), None, [(on(start, -20), mg(59), "maintenance")]),
        EpisodeSpec(10, "SB1", "buprenorphine", on(start, -30), None, [(on(start, -20), mg(12), "maintenance")]),
        # Ended on day 181 (not retained) and on day 182 (retained).
        EpisodeSpec(5, "SB1", "methadone", start, on(start, 181)),
        EpisodeSpec(6, "NB2", "methadone", start, on(start, 182)),
        # Starts on the census date: on OST that day, in induction, in the retention cohort.
        EpisodeSpec(7, "NA1", "methadone", census, None),
    ]
    overdoses = [
        OverdoseSpec(2, "SB1", on(start, 3), True, "survived"), OverdoseSpec(2, "SB1", on(start, 4), True, "died"),
        OverdoseSpec(4, "NB2", start, False, "survived"), OverdoseSpec(0, "NA1", on(census, 3), True, "survived"),
    ]
    movements = [
        MovementSpec("NA1", "syringe", "receipt", 10, on(start, -3)),
        MovementSpec("SB1", "condom", "adjustment", -1, on(start, 2)),
        MovementSpec("NA1", "hiv_test_kit", "receipt", 1, census),
        MovementSpec("SB1", "naloxone_kit", "receipt", 5, on(start, -100)),
    ]
    year = census.year
    pses = [
        # 3 of 5 PWID got syringes: 0.6, the upper bound of NSP_COVERAGE's medium band; 2 of 5
        # tested: 0.4, the lower bound of HTS_PWID's. The range changes the level.
        PSESpec("XL", "pwid", year, 5, 4, 7),
        PSESpec("XL", "pwid", year - 1, 1, None, None),  # another year: never used
        PSESpec("XL/NORTH/N1", "pwid", year, 2, None, None),
    ]
    spec = ProgramSpec(period=period, as_of=as_of, scope={"area": "XL/NORTH/N1"}, package=("syringes", "condoms"),
                       clients=clients, contacts=contacts, episodes=episodes, overdoses=overdoses,
                       movements=movements, pses=pses)
    # OST and ART estimates that put the value exactly on a band's upper bound (else its
    # lower): 8 or 10 people on OST and 3 on ART give 0.4 and 0.75.
    figures = Oracle(spec, {}).figures
    for code, population in (("OST_COVERAGE", "opioid_dependent"), ("ART_PWID", "pwid_hiv")):
        numerator = figures[code].numerator[()]
        for bound in reversed(BANDS[code]):
            if numerator and (numerator / bound).is_integer():
                pses.append(PSESpec("XL", population, year, int(numerator / bound), None, None))
                break
    return spec


# About 12 random programs per kind of period, and one hand-made: the whole file stays well
# under a minute. No "explain" phase: it reruns failing examples many times over.
ORACLE_SETTINGS = settings(max_examples=12, deadline=None,
                           phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                           suppress_health_check=[HealthCheck.function_scoped_fixture])


@ORACLE_SETTINGS
@given(spec=programs(("2025",)))
@example(spec=edge_program("2025"))
def test_a_year_matches_the_oracle(sites, record_contact, package_config, spec):
    check_program(spec, sites, record_contact, package_config)


@ORACLE_SETTINGS
@given(spec=programs(("2025Q1", "2025Q2", "2025Q3", "2025Q4")))
@example(spec=edge_program("2025Q2"))
def test_a_quarter_matches_the_oracle(sites, record_contact, package_config, spec):
    check_program(spec, sites, record_contact, package_config)


@ORACLE_SETTINGS
@given(spec=programs(tuple(f"2025-{m:02d}" for m in range(1, 13))))
@example(spec=edge_program("2025-02"))
def test_a_month_matches_the_oracle(sites, record_contact, package_config, spec):
    check_program(spec, sites, record_contact, package_config)


# The dashboards' codes and every count that adds up over time (suppression counts the
# year's months of those): all made in one pass.
TREND_ORACLE_CODES = tuple(sorted({*TREND_CODES, *(c for c in CODES if BY_CODE[c].adds_over_time)}))


@ORACLE_SETTINGS
@given(spec=programs(("2025",)))
@example(spec=edge_program("2025"))
def test_the_monthly_trend_matches_the_oracle(sites, record_contact, package_config, spec):
    """The month-by-month trend (every month of 2025 in one pass, with its cells) against the
    oracle, month by month: each month's rows are that month's indicators."""
    note(describe(spec))
    package_config(spec.package)
    today = timezone.localdate()  # the trend counts OST on each month's last day, or today
    with transaction.atomic():
        record_program(spec, sites, record_contact)
        problems = []
        for scope in ({}, spec.scope):
            runs = [("native", None)]
            if connection.vendor == "sqlite":
                runs.append(("DuckDB", "copy"))
            for name, copy in runs:
                with tempfile.TemporaryDirectory() as folder:
                    runner = DuckDBRunner(_copy_of_database(Path(folder))) if copy else None
                    try:
                        rows = monthly_trend(TREND_ORACLE_CODES, "2025-01", "2025-12", disaggregate=True,
                                             runner=runner, **scope)
                    finally:
                        if runner is not None:
                            runner.close()
                by_month: dict[str, list[dict]] = defaultdict(list)
                for row in rows:
                    by_month[row["period"]].append(row)
                assert sorted(by_month) == [f"2025-{m:02d}" for m in range(1, 13)]
                for label, month_rows in sorted(by_month.items()):
                    month = replace(spec, period=parse_period(label), as_of=today)
                    problems += [f"{name}, {label}, scope {scope or 'program'}: {p}"
                                 for p in compare(month, scope, month_rows, codes=TREND_ORACLE_CODES)]
        transaction.set_rollback(True)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# Two points where the engine was seen to differ from the documentation, as the smallest
# programs that showed it (the random programs find them too, but only now and then). Each
# also compares every cell of the code with the oracle.


def small_program(label: str, as_of: dt.date, contacts: list[ContactSpec]) -> ProgramSpec:
    """Contacts of PWID clients (women born in 1990) and nothing else."""
    clients = [ClientSpec(n, "F", 1990, True) for n in sorted({c.client for c in contacts})]
    return ProgramSpec(period=parse_period(label), as_of=as_of, scope={}, package=("syringes", "condoms"),
                       clients=clients, contacts=contacts, episodes=[], overdoses=[], movements=[], pses=[])


def compute_and_compare(spec: ProgramSpec, sites: dict, record_contact, package_config, code: str) -> dict:
    """The total row of ``code`` for ``spec``, after checking every row of the code against
    the oracle."""
    package_config(spec.package)
    with transaction.atomic():
        record_program(spec, sites, record_contact)
        rows = compute_indicators(spec.period.label, as_of=spec.as_of, codes=[code])
        transaction.set_rollback(True)
    problems = compare(spec, {}, rows, codes=(code,))
    assert not problems, "\n".join(problems)
    return next(r for r in rows if not r["disaggregation"])


def test_nsp_regular_counts_every_month_up_to_the_census_date(sites, record_contact, package_config):
    """NSP_REGULAR for a period not over yet: "every calendar month of the period up to the
    census date" (docs/indicators.md, Conventions), the as-of date standing in for the census
    date. Computed for 2025Q1 as of 31 January, a client given syringes at NA1 on 10 January
    and 10 February received syringes in every month up to the census date (January); a client
    given syringes at SB1 on 10 February only did not: 1 of 2, the one at NA1.
    """
    spec = small_program("2025Q1", dt.date(2025, 1, 31), [
        ContactSpec(0, "NA1", _aware(dt.date(2025, 1, 10), 12), syringes_given=10),
        ContactSpec(0, "NA1", _aware(dt.date(2025, 2, 10), 12), syringes_given=10),
        ContactSpec(1, "SB1", _aware(dt.date(2025, 2, 10), 12), syringes_given=10),
    ])
    row = compute_and_compare(spec, sites, record_contact, package_config, "NSP_REGULAR")
    assert (row["numerator"], row["denominator"]) == (1, 2)


def test_art_pwid_keeps_a_client_once_recorded_on_art(sites, record_contact, package_config):
    """ART_PWID's denominator: PWID clients seen in the period "known to live with HIV by the
    census date: a positive HIV result given to them, or an ART status "on ART" recorded
    (being on ART is itself a record of living with HIV), at any site" (docs/indicators.md).
    A client recorded on ART on 10 January and not on ART on 10 February 2025 is known to live
    with HIV and is not on ART: in the 2025Q1 denominator, not in the numerator (0 of 1).
    """
    spec = small_program("2025Q1", dt.date(2025, 6, 30), [
        ContactSpec(0, "NA1", _aware(dt.date(2025, 1, 10), 12), art_status="on_art"),
        ContactSpec(0, "NA1", _aware(dt.date(2025, 2, 10), 12), art_status="not_on_art"),
    ])
    row = compute_and_compare(spec, sites, record_contact, package_config, "ART_PWID")
    assert (row["numerator"], row["denominator"]) == (0, 1)
