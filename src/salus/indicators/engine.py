"""The indicator engine: computes the catalogue for a period, an area or a site, in bulk.

Public interface (used by reports, exports, the model bridge and the CLI):

- :func:`compute_indicators` returns one dict per indicator and disaggregation cell;
- :func:`monthly_trend` returns the month-by-month totals that dashboards draw.

How it works: one read copies the period's contacts at the sites in scope (plus, for ART, the
HIV results and ART statuses recorded up to the census date at any site) into a table
(``Runner.read_contacts``); they are summed per client and site, then per client (their last and
first site, the months they got syringes...), and joined to the client's sex, age band and PWID
flag. Every client is put in exactly one *fine cell* (sex x age band x site) and every measure
is summed per fine cell in SQL; the disaggregations (sex, age, sex x age, area, site) are sums
of fine cells, so they always add up to the total. HIV/HCV results and ART status are
encrypted: only the results given (and each client's latest ART status) are decrypted, once
each, in Python (salus.indicators.clinical); SQL gets back which ciphertexts are positive or
"on ART", and counts them. Plain values never leave that module.

Rules and choices are documented in docs/indicators.md; the definitions are in
salus.indicators.catalogue.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.utils.translation import gettext as _

from salus.indicators import catalogue as cat
from salus.indicators.periods import Period, months_between, parse_period
from salus.indicators.sources import ContactRead, Runner, choose_runner, quote

SEXES = ("F", "M", "T", "X")
AGE_BANDS = ("<25", "25+", "unknown")
# Adequate maintenance doses for OST_MIN_DOSE, in mg (WHO SI PRV.14).
MIN_DOSE_MG = {"methadone": 60, "buprenorphine": 8}
INDUCTION_DAYS = 14
RETENTION_DAYS = 182
PACKAGE_ELEMENTS = {
    "syringes": "any_syr", "condoms": "any_condom", "naloxone": "any_naloxone",
    "education": "any_education", "hiv_test": "any_hiv_test", "hcv_test": "any_hcv_test",
}


def _may_be_new(fcd: str = "p.fcd", first_date: str = "p.first_date") -> str:
    """A SQL condition on a client (``fcd``: their first contact date; ``first_date``: the date
    of their first contact in scope in P): their first-ever contact may be among their contacts
    in scope in P, so they may be new (NEW_CLIENTS). A client with no first contact date
    recorded counts as new."""
    return f"({fcd} IS NULL OR {fcd} >= {first_date})"


# code -> (numerator measure, programme-level denominator measure or None)
MEASURES: dict[str, tuple[str, str | None]] = {
    "NSP_SYRINGES_PER_PWID": ("syringes", "pwid_syr"),
    "NSP_COVERAGE": ("pwid_syr", "pwid"),
    "NSP_REGULAR": ("pwid_regular", "pwid_syr"),
    "OST_COVERAGE": ("on_ost", None),
    "OST_RETENTION_6M": ("ret_retained", "ret_cohort"),
    "OST_MIN_DOSE": ("ost_adequate", "ost_eligible"),
    "HTS_PWID": ("pwid_hts", "pwid"),
    "PREVENTION_PACKAGE": ("pwid_package", "pwid"),
    "ART_PWID": ("art_on", "art_known_pos"),
    "CLIENTS_REACHED": ("reached", None),
    "NEW_CLIENTS": ("new", None),
    "CONTACTS": ("contacts", None),
    "SYRINGES_DISTRIBUTED": ("syringes", None),
    "SYRINGE_RETURN_RATE": ("returned", "syringes"),
    "CONDOMS_DISTRIBUTED": ("condoms", None),
    "NALOXONE_KITS_DISTRIBUTED": ("naloxone", None),
    "OVERDOSE_REVERSALS": ("od_reversals", None),
    "HIV_TESTS": ("hiv_tests", None),
    "HIV_POSITIVITY": ("hiv_pos", "hiv_tests"),
    "HCV_TESTS": ("hcv_tests", None),
    "HCV_POSITIVITY": ("hcv_pos", "hcv_tests"),
    "REFERRAL_COMPLETION": ("ref_attended", "ref_made"),
    "STOCKOUT_DAYS": ("stockout_days", None),
}

# Measures that are, by their definition, part of another's in every fine cell (a site's count
# of one sex and age band in one month): a positive result is one of the results given, a
# referral attended one of those made (counted in the month it was made). A reader knows it
# too; the audit of all pages together checks each chain of them as one (salus.indicators.release).
PART_OF: dict[str, str] = {"hiv_pos": "hiv_tests", "hcv_pos": "hcv_tests", "ref_attended": "ref_made"}
# Measures counted once at most per contact: a result is given at a contact, and a new client
# is counted in the cell of their first contact (its site, month, sex and age band). So none in
# a fine cell with no contact, which a reader knows too (the same audit).
ONE_PER_CONTACT = ("hiv_tests", "hcv_tests", "new")


class ScopeError(ValueError):
    """An unknown area or site, or both given."""


# --------------------------------------------------------------------------- scope


class Scope:
    """The sites an indicator covers: the program, an area (with every area below it) or a site."""

    def __init__(self, area: str | None = None, site: str | None = None):
        from salus.core.models import Area, Site

        if area and site:
            raise ScopeError(_("Give an area or a site, not both."))
        self.area = self.site = None
        if site:
            self.site = Site.objects.select_related("area").filter(code=site).first()
            if self.site is None:
                raise ScopeError(_("Unknown site %(code)s.") % {"code": site})
            sites = [self.site]
        elif area:
            self.area = Area.objects.filter(path=area).first()
            if self.area is None:
                matches = list(Area.objects.filter(code=area)[:2])
                if len(matches) != 1:
                    raise ScopeError(_("Unknown area %(code)s (give its full path, e.g. XL/NORTH).") % {"code": area})
                self.area = matches[0]
            sites = list(Site.objects.select_related("area").filter(self.area.subtree_q("area__")))
        else:
            sites = list(Site.objects.select_related("area").all())
        # (area path, site code) of every site in scope, for cells with no data (zeros).
        self.sites: list[tuple[str, str]] = sorted((s.area.path, s.code) for s in sites)
        # Ids of the sites in scope, or None when they are every site of the program (the
        # program, or an area holding every site): no condition is needed then.
        every_site = not (self.site or self.area) or len(sites) == Site.objects.count()
        self.site_ids = None if every_site else tuple(sorted(s.id for s in sites))

    @property
    def area_path(self) -> str | None:
        return self.area.path if self.area else None

    @property
    def site_code(self) -> str | None:
        return self.site.code if self.site else None

    def sql(self, site_alias: str = "s", area_alias: str = "a", path: str = "path") -> str:
        """A SQL condition on the joined site and area rows (``path``: the area path column)."""
        if self.site is not None:
            return f"{site_alias}.code = {quote(self.site.code)}"
        if self.area is not None:
            area = self.area.path
            return (
                f"({area_alias}.{path} = {quote(area)} OR "
                f"SUBSTR({area_alias}.{path}, 1, {len(area) + 1}) = {quote(area + '/')})"
            )
        return "1 = 1"

    def pse_area(self):
        """The area whose population size estimate is the population-level denominator.

        An area scope uses its own area; the whole program uses its single top area when every
        site lies under it; a site scope has none (a site is not an administrative area).
        """
        from salus.core.models import Area

        if self.site is not None:
            return None
        if self.area is not None:
            return self.area
        roots = list(Area.objects.filter(parent__isnull=True)[:2])
        return roots[0] if len(roots) == 1 else None


# --------------------------------------------------------------------------- SQL


class _Tables:
    def __init__(self, runner: Runner):
        from salus.clients.models import Client
        from salus.core.models import Area, Site
        from salus.services.models import Contact, OSTDose, OSTEpisode, OverdoseEvent, Referral
        from salus.stock.models import Commodity, StockMovement

        t = runner.table
        self.contact, self.client, self.site, self.area = t(Contact), t(Client), t(Site), t(Area)
        self.episode, self.dose = t(OSTEpisode), t(OSTDose)
        self.referral, self.overdose = t(Referral), t(OverdoseEvent)
        self.movement, self.commodity = t(StockMovement), t(Commodity)


def _age_sql(census_year: int, col: str = "cl.birth_year") -> str:
    return (
        f"CASE WHEN {col} IS NULL THEN 'unknown' WHEN {census_year} - {col} <= 24 THEN '<25' "
        f"ELSE '25+' END"
    )


class _Computation:
    """One run of the engine: a period, a scope and a runner; sums measures per fine cell."""

    def __init__(self, runner: Runner, period: Period, scope: Scope, census: dt.date, as_of: dt.date,
                 codes: list[str]):
        self.r, self.d, self.p, self.scope = runner, runner.dialect, period, scope
        self.census, self.as_of, self.codes = census, as_of, set(codes)
        self.t = _Tables(runner)
        # The sites, read once (a few hundred rows), ranked by code (ties between sites go to
        # the greater code, the same way in every dialect).
        self.sites = runner.materialise("ind_sites", f"""
            SELECT {runner.uuid('s.id')} AS id, s.code AS code, a.path AS area_path,
                   ROW_NUMBER() OVER (ORDER BY s.code) AS site_rank
            FROM {self.t.site} s JOIN {self.t.area} a ON a.id = s.area_id""")
        self._clients_table: str | None = None
        # What decrypt_results keeps for clinical: name -> table of ciphertexts.
        self.flags: dict[str, str] = {}
        self._lock = threading.Lock()
        self.age = _age_sql(period.end.year)
        # fine cell (sex, age, area, site) -> measure -> number
        self.fine: dict[tuple, Counter] = defaultdict(Counter)
        # (area, site, commodity) -> stock-out days
        self.stock: dict[tuple, int] = {}

    # Helpers ------------------------------------------------------------------------------

    def _add(self, rows: Iterable[tuple], names: tuple[str, ...]) -> None:
        rows = list(rows)
        # The independent parts may run on a second thread (compute_indicators).
        with self._lock:
            self._add_locked(rows, names)

    def _add_locked(self, rows: list[tuple], names: tuple[str, ...]) -> None:
        for row in rows:
            key = (row[0] or "X", row[1], row[2], row[3])
            bucket = self.fine[key]
            for name, value in zip(names, row[4:], strict=True):
                # PostgreSQL sums big integers as numeric: every measure is a whole number.
                bucket[name] += int(value or 0)

    def _lit(self, day: dt.date) -> str:
        return self.d.date(day)

    def needs(self, *codes: str) -> bool:
        return bool(self.codes.intersection(codes))

    @property
    def clients(self) -> str:
        """Every client's sex, age band (census year), PWID flag and first-ever contact date."""
        if self._clients_table is None:
            self._clients_table = self.r.materialise("ind_clients", f"""
                SELECT {self.r.uuid('cl.id')} AS client_id, cl.sex AS sex, {self.age} AS age_band,
                       {self.d.flag('cl.injects')} AS injects, cl.first_contact_date AS fcd
                FROM {self.t.client} cl""")
        return self._clients_table

    # Contacts -----------------------------------------------------------------------------

    def read_contacts(self) -> None:
        """Copy the contacts the catalogue needs (Runner.read_contacts)."""
        p = self.p
        self.scan = self.r.read_contacts(ContactRead(
            start=p.start, end=p.end, site_ids=self.scope.site_ids,
            census=self.census if self.needs("ART_PWID") else None,
            results=self.needs("HIV_POSITIVITY", "HCV_POSITIVITY"),
        ))

    def contacts(self, r: Runner) -> None:
        """Sum the contacts read per client and site, then per client, then per fine cell."""
        d, p = self.d, self.p
        # Per client and site: what the contact counts and the client-level measures need.
        month_bit = f"1 << ({d.month_number('date')} - {p.start.year * 12 + p.start.month})"
        # NSP_REGULAR looks at the months up to the census date, and at what was known then: a
        # month's syringes given after the census date do not count (an as-of date in the past).
        census = self._lit(self.census)
        # Grouped by the site's id, then ranked: the join is made once per group, not per contact.
        self.pcs = r.materialise("ind_pcs", f"""
            SELECT g.*, s.site_rank AS site_rank FROM (
            SELECT client_id, site_id, COUNT(*) AS contacts, SUM(syringes_given) AS syringes,
                   SUM(syringes_returned) AS returned, SUM(condoms_given) AS condoms,
                   SUM(naloxone_kits_given) AS naloxone, SUM(hiv_result_given) AS hiv_tests,
                   SUM(hcv_result_given) AS hcv_tests,
                   MAX(occurred_at) AS last_at, MIN(occurred_at) AS first_at, MIN(date) AS first_date,
                   {d.bit_or(f'CASE WHEN syringes_given > 0 AND date <= {census} THEN {month_bit} ELSE 0 END')} AS syr_months,
                   MAX(education) AS any_education, MAX(hiv_tested) AS any_hiv_test,
                   MAX(hcv_tested) AS any_hcv_test
            FROM {self.scan} WHERE in_period = 1
            GROUP BY client_id, site_id) g JOIN {self.sites} s ON s.id = g.site_id""")
        self._clients(r)
        self._contact_counts(r)

    def decrypt_results(self, r: Runner) -> None:
        """Decrypt, once each, the clinical values the catalogue needs (after :meth:`read_contacts`).

        Needs nothing but the contacts read, so it runs beside :meth:`contacts` (Python work
        beside DuckDB work). What it keeps is which ciphertexts are positive results (HIV:
        every result read, for positivity and for ART; HCV: the period's) and which ART
        statuses are "on ART" (each client's latest, and the earlier ones that can show a
        client lives with HIV), as tables of ciphertexts in the runner (:meth:`Runner.keys`):
        the plain values themselves go no further than this method, and :meth:`clinical` is
        SQL over those tables. They are dropped at the end of :meth:`clinical`.
        """
        from salus.indicators.clinical import tokens_of

        wanted = [t for t in ("hiv", "hcv") if self.needs(f"{t.upper()}_POSITIVITY")]
        if self.needs("ART_PWID") and "hiv" not in wanted:
            wanted.insert(0, "hiv")
        for test in wanted:
            # HIV results are read for the period and, for ART, the history (hiv_ct is NULL on
            # rows read for neither); HCV results are wanted for the period only.
            where = f"{test}_ct IS NOT NULL" + (" AND in_period = 1" if test == "hcv" else "")
            cts = r.rows(f"SELECT DISTINCT {test}_ct FROM {self.scan} WHERE {where}")
            self.flags[f"{test}_pos"] = r.keys(
                f"ind_{test}_pos", tokens_of(f"{test}_result", "positive", (ct for (ct,) in cts)))
        if self.needs("ART_PWID"):
            # Each client's latest ART status recorded up to the census date, at any site (ties:
            # the greater ciphertext, an arbitrary rule that every runner applies alike).
            self.art_last = r.materialise("ind_art_last", f"""
                SELECT client_id, art_ct FROM (
                    SELECT client_id, art_ct, ROW_NUMBER() OVER (
                        PARTITION BY client_id ORDER BY occurred_at DESC, art_ct DESC) AS rn
                    FROM {self.scan} WHERE in_hist = 1 AND art_ct IS NOT NULL) ranked
                WHERE rn = 1""")
            cts = r.rows(f"SELECT DISTINCT art_ct FROM {self.art_last}")
            latest_on = tokens_of("art_status", "on_art", (ct for (ct,) in cts))
            # A client once recorded "on ART" is known to live with HIV even after a later "not
            # on ART" (stopping treatment is what the indicator is there to show, not a reason
            # to leave its denominator). Only the earlier statuses of clients known by no other
            # record can change that: those with no positive HIV result whose latest status is
            # not "on ART". Theirs alone are decrypted.
            latest = r.keys("ind_art_latest_on", latest_on)
            try:
                cts = r.rows(f"""
                    SELECT DISTINCT h.art_ct FROM {self.scan} h
                    WHERE h.in_hist = 1 AND h.art_ct IS NOT NULL
                      AND h.client_id NOT IN (SELECT client_id FROM {self.art_last}
                                              WHERE art_ct IN (SELECT ct FROM {latest}))
                      AND h.client_id NOT IN (SELECT client_id FROM {self.scan}
                                              WHERE in_hist = 1
                                                AND hiv_ct IN (SELECT ct FROM {self.flags['hiv_pos']}))""")
            finally:
                r.drop(latest)
            earlier_on = tokens_of("art_status", "on_art", (ct for (ct,) in cts))
            # Holds every "on ART" status of a client who could be known by it alone, and each
            # client's latest status when it is "on ART".
            self.flags["on_art"] = r.keys("ind_on_art", sorted(set(latest_on) | set(earlier_on)))

    def clinical(self, r: Runner) -> None:
        """The indicators that need decrypted values (after :meth:`contacts` and
        :meth:`decrypt_results`); drops the tables of :meth:`decrypt_results` when done."""
        try:
            if self.needs("HIV_POSITIVITY", "HCV_POSITIVITY"):
                self._positivity(r)
            if self.needs("ART_PWID"):
                self._art(r)
        finally:
            for table in self.flags.values():
                r.drop(table)
            self.flags = {}

    def _clients(self, r: Runner) -> None:
        d, pcs = self.d, self.pcs
        # A client seen at several sites in P belongs to the site of their last contact in P
        # (and a new client to the site of their first-ever contact: first_sites), so each
        # client is in exactly one cell. Ties (same moment) go to the greater site code for the
        # last contact and to the lesser for the first, the same way in every dialect.
        if d.name == "duckdb":
            # One number orders by time, then by site code (its rank): cheaper than a pair.
            key = "CAST(epoch_us(p.{}) AS HUGEINT) * 1000000 + p.site_rank"
            ranks = f"""arg_max(p.site_rank, {key.format('last_at')}) AS last_rank,
                        arg_min(p.site_rank, {key.format('first_at')}) AS first_rank,"""
            joins = ""
        else:
            ranked = {}
            for name, col, order in (("last", "last_at", "DESC"), ("first", "first_at", "ASC")):
                ranked[name] = r.materialise(f"ind_{name}", f"""
                    SELECT client_id, site_rank FROM (
                        SELECT client_id, site_rank, ROW_NUMBER() OVER (
                            PARTITION BY client_id ORDER BY {col} {order}, site_rank {order}
                        ) AS rn FROM {pcs}) ranked
                    WHERE rn = 1""")
            ranks = "MAX(l.site_rank) AS last_rank, MAX(f.site_rank) AS first_rank,"
            joins = (f"JOIN {ranked['last']} l ON l.client_id = p.client_id "
                     f"JOIN {ranked['first']} f ON f.client_id = p.client_id")
        months = len(self.p.months())
        pcl = r.materialise("ind_pcl0", f"""
            SELECT p.client_id AS client_id, {ranks} MIN(p.first_date) AS first_date,
                   {d.count_bits('p.syr_months', months)} AS syr_months,
                   MAX(CASE WHEN p.syringes > 0 THEN 1 ELSE 0 END) AS any_syr,
                   MAX(CASE WHEN p.condoms > 0 THEN 1 ELSE 0 END) AS any_condom,
                   MAX(CASE WHEN p.naloxone > 0 THEN 1 ELSE 0 END) AS any_naloxone,
                   MAX(p.any_education) AS any_education, MAX(p.any_hiv_test) AS any_hiv_test,
                   MAX(p.any_hcv_test) AS any_hcv_test,
                   MAX(CASE WHEN p.hiv_tests > 0 THEN 1 ELSE 0 END) AS any_hiv_known
            FROM {pcs} p {joins}
            GROUP BY p.client_id""")
        self.pcl = r.materialise("ind_pcl", f"""
            SELECT p.*, c.sex AS sex, c.age_band AS age_band, c.injects AS injects, c.fcd AS fcd,
                   l.code AS last_site, l.area_path AS last_area
            FROM {pcl} p JOIN {self.clients} c ON c.client_id = p.client_id
            JOIN {self.sites} l ON l.site_rank = p.last_rank""")
        census_months = [m for m in self.p.months() if m <= (self.census.year, self.census.month)]
        package = self._package_sql()
        names = ("reached", "pwid", "pwid_syr", "pwid_regular", "pwid_hts", "pwid_package")
        self._add(r.rows(f"""
            SELECT p.sex, p.age_band, p.last_area, p.last_site, COUNT(*), SUM(p.injects),
                   SUM(p.injects * p.any_syr),
                   SUM(CASE WHEN p.injects = 1 AND p.syr_months = {len(census_months)} THEN 1 ELSE 0 END),
                   SUM(p.injects * p.any_hiv_known),
                   SUM(CASE WHEN p.injects = 1 AND {package} THEN 1 ELSE 0 END)
            FROM {self.pcl} p
            GROUP BY p.sex, p.age_band, p.last_area, p.last_site"""), names)
        # New: the client's first-ever contact (Client.first_contact_date, kept by the contact
        # and merge actions) is their first contact in scope in P, and it is at a site in scope.
        if self.needs("NEW_CLIENTS"):
            firsts = self.first_sites(r, f"SELECT client_id FROM {self.pcl} p WHERE {_may_be_new()}")
            self._add(r.rows(f"""
                SELECT p.sex, p.age_band, s.area_path, s.code, COUNT(*)
                FROM {self.pcl} p {self.first_site_join(firsts)}
                WHERE {_may_be_new()}
                GROUP BY p.sex, p.age_band, s.area_path, s.code"""), ("new",))

    def first_sites(self, r: Runner, candidates: str) -> str | None:
        """For the clients of query ``candidates`` (a column client_id), the rank of the site of
        their first-ever contact: the earliest at any site on their first contact date, ties at
        the same moment going to the lesser site code as in :meth:`_clients`. A table
        (client_id, first_rank); None when the scope is every site, whose first contact in P
        is then that one. A client with no contact on that date (none was recorded through
        the contact actions) has no row.

        A client first seen at two sites on one day is new at the first of them only, on every
        page: so a site's new clients are the same on its own page as on its area's and the
        program's, and a place's are the sum of its sites' (which suppression across places
        relies on).
        """
        if self.scope.site_ids is None:
            return None
        contacts = r.first_day_contacts(r.materialise("ind_new_candidates", candidates))
        if self.d.name == "duckdb":
            return r.materialise("ind_first_sites", f"""
                SELECT f.client_id AS client_id,
                       arg_min(s.site_rank, CAST(epoch_us(f.occurred_at) AS HUGEINT) * 1000000 + s.site_rank) AS first_rank
                FROM {contacts} f JOIN {self.sites} s ON s.id = f.site_id
                GROUP BY f.client_id""")
        return r.materialise("ind_first_sites", f"""
            SELECT client_id, site_rank AS first_rank FROM (
                SELECT f.client_id AS client_id, s.site_rank AS site_rank, ROW_NUMBER() OVER (
                    PARTITION BY f.client_id ORDER BY f.occurred_at ASC, s.site_rank ASC) AS rn
                FROM {contacts} f JOIN {self.sites} s ON s.id = f.site_id) ranked
            WHERE rn = 1""")

    def first_site_join(self, firsts: str | None, alias: str = "p") -> str:
        """Joins that make ``s`` the site a new client of ``alias`` (with its first_rank in
        scope) is counted at, and leave out those first seen outside the scope
        (:meth:`first_sites`)."""
        if firsts is None:
            return f"JOIN {self.sites} s ON s.site_rank = {alias}.first_rank"
        return (f"LEFT JOIN {firsts} f ON f.client_id = {alias}.client_id "
                f"JOIN {self.sites} s ON s.site_rank = COALESCE(f.first_rank, {alias}.first_rank) "
                f"AND {self.scope.sql('s', 's', 'area_path')}")

    def _package_sql(self) -> str:
        from salus.core.config import program_config

        elements = program_config().defined_package
        unknown = [e for e in elements if e not in PACKAGE_ELEMENTS]
        if unknown or not elements:
            raise ValueError(f"defined_package: unknown or empty element(s) {unknown}; use {sorted(PACKAGE_ELEMENTS)}")
        return "(" + " AND ".join(f"p.{PACKAGE_ELEMENTS[e]} = 1" for e in elements) + ")"

    def _contact_counts(self, r: Runner) -> None:
        names = ("contacts", "syringes", "returned", "condoms", "naloxone", "hiv_tests", "hcv_tests")
        self._add(r.rows(f"""
            SELECT c.sex, c.age_band, s.area_path, s.code, SUM(p.contacts), SUM(p.syringes),
                   SUM(p.returned), SUM(p.condoms), SUM(p.naloxone), SUM(p.hiv_tests), SUM(p.hcv_tests)
            FROM {self.pcs} p JOIN {self.pcl} c ON c.client_id = p.client_id
            JOIN {self.sites} s ON s.site_rank = p.site_rank
            GROUP BY c.sex, c.age_band, s.area_path, s.code"""), names)

    def _positivity(self, r: Runner) -> None:
        """Positive results given in P, per fine cell of the client (site: the contact's)."""
        for test in ("hiv", "hcv"):
            if not self.needs(f"{test.upper()}_POSITIVITY"):
                continue
            self._add(r.rows(f"""
                SELECT c.sex, c.age_band, s.area_path, s.code, COUNT(*)
                FROM {self.scan} x JOIN {self.pcl} c ON c.client_id = x.client_id
                JOIN {self.sites} s ON s.id = x.site_id
                WHERE x.in_period = 1 AND x.{test}_ct IN (SELECT ct FROM {self.flags[f'{test}_pos']})
                GROUP BY c.sex, c.age_band, s.area_path, s.code"""), (f"{test}_pos",))

    def _art(self, r: Runner) -> None:
        """ART_PWID: PWID clients seen in P known to live with HIV (a positive HIV result
        given, or an ART status "on ART" recorded, up to the census date at any site: being on
        ART is itself a record of living with HIV), and of those, the ones whose latest ART
        status by then is "on ART"."""
        on_art_tokens = f"SELECT ct FROM {self.flags['on_art']}"
        on_art = f"SELECT client_id FROM {self.art_last} WHERE art_ct IN ({on_art_tokens})"
        self._add(r.rows(f"""
            SELECT p.sex, p.age_band, s.area_path, s.code, COUNT(*),
                   SUM(CASE WHEN o.client_id IS NULL THEN 0 ELSE 1 END)
            FROM {self.pcl} p
            JOIN (SELECT h.client_id FROM {self.scan} h
                  WHERE h.in_hist = 1 AND (h.hiv_ct IN (SELECT ct FROM {self.flags['hiv_pos']})
                                           OR h.art_ct IN ({on_art_tokens}))
                  GROUP BY h.client_id) k ON k.client_id = p.client_id
            LEFT JOIN ({on_art}) o ON o.client_id = p.client_id
            JOIN {self.sites} s ON s.site_rank = p.last_rank
            WHERE p.injects = 1
            GROUP BY p.sex, p.age_band, s.area_path, s.code"""), ("art_known_pos", "art_on"))

    # OST ----------------------------------------------------------------------------------

    def ost(self, r: Runner) -> None:
        d, t, p = self.d, self.t, self.p
        census, start, end = self._lit(self.census), self._lit(p.start), self._lit(p.end)
        eps = r.materialise("ind_eps", f"""
            SELECT e.id AS episode_id, e.client_id AS client_id, e.medication AS medication,
                   e.start_date AS start_date, e.end_date AS end_date, s.code AS site_code,
                   s.area_path AS area_path, cl.sex AS sex, cl.age_band AS age_band
            FROM {t.episode} e
            JOIN {self.sites} s ON s.id = e.site_id
            JOIN {self.clients} cl ON cl.client_id = e.client_id
            WHERE {self.scope.sql('s', 's', 'area_path')} AND e.start_date <= {end}""")
        if self.needs("OST_COVERAGE", "OST_MIN_DOSE"):
            # One row per client on OST on the census date (their latest-started active episode).
            act = r.materialise("ind_ost_active", f"""
                SELECT * FROM (
                    SELECT e.*, ROW_NUMBER() OVER (
                        PARTITION BY client_id ORDER BY start_date DESC, episode_id DESC) AS rn
                    FROM {eps} e
                    WHERE start_date <= {census} AND (end_date IS NULL OR end_date >= {census})
                ) ranked WHERE rn = 1""")
            if self.needs("OST_MIN_DOSE"):
                self._ost_doses(r, act)
            else:
                # Coverage counts the clients on OST; only the minimum-dose indicator needs each
                # one's latest dose (the month-by-month trend asks for coverage alone).
                self._add(r.rows(f"""
                    SELECT a.sex, a.age_band, a.area_path, a.site_code, COUNT(*)
                    FROM {act} a
                    GROUP BY a.sex, a.age_band, a.area_path, a.site_code"""), ("on_ost",))
        if self.needs("OST_RETENTION_6M"):
            day182 = d.add_days("start_date", RETENTION_DAYS)
            self._add(r.rows(f"""
                SELECT sex, age_band, area_path, site_code, COUNT(*),
                       SUM(CASE WHEN end_date IS NULL OR end_date >= {day182} THEN 1 ELSE 0 END)
                FROM {eps}
                WHERE start_date >= {start} AND start_date <= {end} AND {day182} <= {self._lit(self.as_of)}
                GROUP BY sex, age_band, area_path, site_code"""), ("ret_cohort", "ret_retained"))

    def _ost_doses(self, r: Runner, act: str) -> None:
        """Clients on OST on the census date (``act``), with whether their latest dose makes
        them eligible for, and adequately dosed under, OST_MIN_DOSE."""
        d = self.d
        census = self._lit(self.census)
        dose = r.materialise("ind_ost_dose", f"""
            SELECT episode_id, dose_mg, phase FROM (
                SELECT x.episode_id AS episode_id, x.dose_mg AS dose_mg, x.phase AS phase,
                       ROW_NUMBER() OVER (PARTITION BY x.episode_id ORDER BY x.date DESC, x.id DESC) AS rn
                FROM {self.t.dose} x JOIN {act} a ON a.episode_id = x.episode_id
                WHERE x.date <= {census}
            ) ranked WHERE rn = 1""")
        eligible = (
            f"a.medication IN ('methadone', 'buprenorphine') "
            f"AND {d.days_between('a.start_date', census)} >= {INDUCTION_DAYS} "
            f"AND (x.phase IS NULL OR x.phase = 'maintenance')"
        )
        adequate = (
            f"x.dose_mg IS NOT NULL AND ((a.medication = 'methadone' AND x.dose_mg >= {MIN_DOSE_MG['methadone']}) "
            f"OR (a.medication = 'buprenorphine' AND x.dose_mg >= {MIN_DOSE_MG['buprenorphine']}))"
        )
        self._add(r.rows(f"""
            SELECT a.sex, a.age_band, a.area_path, a.site_code, COUNT(*),
                   SUM(CASE WHEN {eligible} THEN 1 ELSE 0 END),
                   SUM(CASE WHEN {eligible} AND {adequate} THEN 1 ELSE 0 END)
            FROM {act} a LEFT JOIN {dose} x ON x.episode_id = a.episode_id
            GROUP BY a.sex, a.age_band, a.area_path, a.site_code"""),
            ("on_ost", "ost_eligible", "ost_adequate"))

    # Referrals, overdoses, stock --------------------------------------------------------

    def referrals(self, r: Runner) -> None:
        t = self.t
        self._add(r.rows(f"""
            SELECT cl.sex, cl.age_band, s.area_path, s.code, COUNT(*),
                   SUM(CASE WHEN r.status = 'attended' THEN 1 ELSE 0 END)
            FROM {t.referral} r
            JOIN {self.sites} s ON s.id = r.site_id
            JOIN {self.clients} cl ON cl.client_id = r.client_id
            WHERE r.made_on >= {self._lit(self.p.start)} AND r.made_on <= {self._lit(self.p.end)}
              AND {self.scope.sql('s', 's', 'area_path')}
            GROUP BY cl.sex, cl.age_band, s.area_path, s.code"""), ("ref_made", "ref_attended"))

    def overdoses(self, r: Runner) -> None:
        t, d = self.t, self.d
        self._add(r.rows(f"""
            SELECT cl.sex, cl.age_band, s.area_path, s.code, COUNT(*)
            FROM {t.overdose} o
            JOIN {self.sites} s ON s.id = o.site_id
            JOIN {self.clients} cl ON cl.client_id = o.client_id
            WHERE o.date >= {self._lit(self.p.start)} AND o.date <= {self._lit(self.p.end)}
              AND {d.flag('o.naloxone_given')} = 1 AND o.outcome = 'survived'
              AND {self.scope.sql('s', 's', 'area_path')}
            GROUP BY cl.sex, cl.age_band, s.area_path, s.code"""), ("od_reversals",))

    def stockouts(self, r: Runner) -> None:
        """Days ending with a balance <= 0, per site and tracked commodity, from the first movement.

        The balance set by the movements of a day holds until the next movement day; spans are
        clipped to the period. Same rule as salus.stock.actions.stockout_days.
        """
        t, d = self.t, self.d
        start, end = self.p.start, self.p.end
        after_end = self._lit(end + dt.timedelta(days=1))
        rows = r.rows(f"""
            WITH daily AS (
                SELECT s.site_rank AS site_rank, m.commodity_id AS commodity, m.occurred_on AS day,
                       SUM(m.quantity) AS quantity
                FROM {t.movement} m JOIN {self.sites} s ON s.id = m.site_id
                WHERE m.commodity_id IN (SELECT code FROM {t.commodity} WHERE {d.flag('tracked')} = 1)
                  AND m.occurred_on <= {self._lit(end)} AND {self.scope.sql('s', 's', 'area_path')}
                GROUP BY s.site_rank, m.commodity_id, m.occurred_on
            ), spans AS (
                SELECT site_rank, commodity, SUM(quantity) OVER w AS balance,
                       CASE WHEN day < {self._lit(start)} THEN {self._lit(start)} ELSE day END AS span_start,
                       COALESCE(LEAD(day) OVER w, {after_end}) AS next_day
                FROM daily
                WINDOW w AS (PARTITION BY site_rank, commodity ORDER BY day
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            )
            SELECT s.area_path, s.code, x.commodity, x.days FROM (
                SELECT site_rank, commodity,
                       SUM(CASE WHEN balance <= 0 AND next_day > span_start
                                THEN {d.days_between('span_start', 'next_day')} ELSE 0 END) AS days
                FROM spans GROUP BY site_rank, commodity) x
            JOIN {self.sites} s ON s.site_rank = x.site_rank""")
        for area, site, commodity, days in rows:
            self.stock[(area, site, commodity)] = int(days or 0)


# --------------------------------------------------------------------------- cells


def _cell_keys(fine_key: tuple) -> list[dict]:
    """The disaggregation cells a fine cell (sex, age, area, site) adds to, total first."""
    sex, age, area, site = fine_key
    return [
        {}, {"sex": sex}, {"age": age}, {"sex": sex, "age": age}, {"area": area},
        {"area": area, "site": site},
    ]


def _freeze(cell: dict) -> tuple:
    return tuple(sorted(cell.items()))


def _empty_cells(scope: Scope) -> list[dict]:
    """Every cell in a stable order: total, sex, age, sex x age, area, site (zeros included)."""
    cells: list[dict] = [{}]
    cells += [{"sex": s} for s in SEXES]
    cells += [{"age": a} for a in AGE_BANDS]
    cells += [{"sex": s, "age": a} for s in SEXES for a in AGE_BANDS]
    cells += [{"area": a} for a in sorted({a for a, _s in scope.sites})]
    cells += [{"area": a, "site": s} for a, s in scope.sites]
    return cells


def _pse(scope: Scope, population: str, year: int):
    """(estimate or None, note) for the scope's population-level denominator."""
    from salus.core.models import PopulationSizeEstimate

    if scope.site is not None:
        return None, _("No population-level value for a single site: population size estimates belong to areas.")
    area = scope.pse_area()
    if area is None:
        return None, _("No single top area holds the whole program: give an area for a population-level value.")
    pse = PopulationSizeEstimate.objects.filter(area=area, population=population, year=year).first()
    if pse is not None:
        return pse, ""
    ancestors = [p for p in _ancestor_paths(area.path)]
    above = (
        PopulationSizeEstimate.objects.filter(area__path__in=ancestors, population=population, year=year)
        .select_related("area").order_by("-area__depth").first()
    )
    if above is not None:
        return None, _(
            "The %(year)s estimate for %(population)s is held at %(holder)s, above %(area)s; "
            "population-level values are never computed below the level of the estimate."
        ) % {"year": year, "population": population, "holder": above.area.path, "area": area.path}
    below = PopulationSizeEstimate.objects.filter(
        area__path__startswith=area.path + "/", population=population, year=year
    ).exists()
    if below:
        return None, _(
            "No %(year)s estimate for %(population)s at %(area)s; estimates of the areas below it "
            "are not added up (record a %(area)s estimate to get a population-level value)."
        ) % {"year": year, "population": population, "area": area.path}
    return None, _("No %(year)s population size estimate for %(population)s at %(area)s.") % {
        "year": year, "population": population, "area": area.path,
    }


def _ancestor_paths(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _build_rows(comp: _Computation | _Sums, scope: Scope, period: Period, codes: list[str], disaggregate: bool,
                census: dt.date) -> list[dict]:
    from salus.core.config import program_config

    overrides = program_config().coverage_bands
    totals: dict[tuple, Counter] = defaultdict(Counter)
    for key, measures in comp.fine.items():
        cells = _cell_keys(key) if disaggregate else [{}]
        for cell in cells:
            totals[_freeze(cell)].update(measures)
    cells = _empty_cells(scope) if disaggregate else [{}]
    annual = 365 / period.days
    pse_cache: dict[str, tuple] = {}
    out: list[dict] = []
    for code in codes:
        ind = cat.get(code)
        if code == "STOCKOUT_DAYS":
            out += _stock_rows(comp, scope, period, disaggregate)
            continue
        num_name, den_name = MEASURES[code]
        bands = cat.bands_for(code, overrides)
        pse, pse_note = (None, "")
        if ind.population:
            if ind.population not in pse_cache:
                pse_cache[ind.population] = _pse(scope, ind.population, period.end.year)
            pse, pse_note = pse_cache[ind.population]
        for cell in cells:
            m = totals.get(_freeze(cell), Counter())
            out.append(_row(ind, period, scope, cell, m[num_name], m[den_name] if den_name else None,
                            pse if not cell else None, pse_note, bands, annual, census))
    return out


def _row(ind, period, scope, cell, numerator, denominator, pse, pse_note, bands, annual, census) -> dict:
    notes: list[str] = []
    factor = annual if ind.annualised else 1.0
    numerator = int(numerator or 0)
    if ind.kind == cat.COUNT:
        programme = numerator
    elif denominator:
        programme = numerator * factor / denominator
    else:
        programme = None
        if ind.denominator:
            notes.append(_("The programme-level denominator is zero."))
    if ind.annualised and period.days < 365:
        notes.append(_("Annualised: multiplied by 365/%(days)s.") % {"days": period.days})
    value = value_low = value_high = lvl = population_den = None
    if ind.population:
        if cell:
            notes.append(_("Population-level values are given for the whole scope only, not for its cells."))
        elif pse is None:
            notes.append(pse_note)
        else:
            population_den = pse.estimate
            value = numerator * factor / pse.estimate if pse.estimate else None
            if pse.high:
                value_low = numerator * factor / pse.high
            if pse.low:
                value_high = numerator * factor / pse.low
            lvl = cat.level(value, bands)
            lo_lvl, hi_lvl = cat.level(value_low, bands), cat.level(value_high, bands)
            if bands and value_low is not None and value_high is not None and lo_lvl != hi_lvl:
                notes.append(_("Across the estimate's range the level goes from %(low)s to %(high)s.") % {
                    "low": lo_lvl, "high": hi_lvl})
            notes.append(_("Denominator: %(population)s estimate %(estimate)s for %(area)s, %(year)s (%(source)s).") % {
                "population": pse.population, "estimate": pse.estimate, "area": pse.area.path,
                "year": pse.year, "source": pse.source or pse.method or _("source not recorded")})
    else:
        value = programme
    if ind.code in ("OST_COVERAGE", "OST_MIN_DOSE") and census != period.end:
        notes.append(_("The period is not over: counted on %(day)s instead of its last day.") % {"day": census})
    return {
        "code": ind.code,
        "period": period.label,
        "area": scope.area_path,
        "site": scope.site_code,
        "disaggregation": dict(cell),
        "value": value,
        "programme_value": programme,
        "numerator": numerator,
        "denominator": int(denominator) if denominator is not None else None,
        "value_low": value_low,
        "value_high": value_high,
        "level": lvl,
        "note": " ".join(n for n in notes if n),
        "kind": ind.kind,
        "population_denominator": population_den,
    }


def _stock_rows(comp: _Computation | _Sums, scope: Scope, period: Period, disaggregate: bool) -> list[dict]:
    ind = cat.get("STOCKOUT_DAYS")
    by_commodity: Counter = Counter()
    for (_area, _site, commodity), days in comp.stock.items():
        by_commodity[commodity] += days
    cells: list[tuple[dict, int]] = [({}, sum(comp.stock.values()))]
    if disaggregate:
        cells += [({"commodity": c}, by_commodity[c]) for c in sorted(by_commodity)]
        cells += [({"area": a, "site": s, "commodity": c}, n) for (a, s, c), n in sorted(comp.stock.items())]
    rows = []
    for cell, days in cells:
        rows.append({
            "code": ind.code, "period": period.label, "area": scope.area_path, "site": scope.site_code,
            "disaggregation": cell, "value": days, "programme_value": days, "numerator": days,
            "denominator": None, "value_low": None, "value_high": None, "level": None,
            "note": "" if comp.stock or cell else _("No tracked commodity has stock movements at the sites in scope."),
            "kind": ind.kind, "population_denominator": None,
        })
    return rows


# --------------------------------------------------------------------------- public


def today() -> dt.date:
    """Today in the program's time zone."""
    from django.utils import timezone

    from salus.services.actions import program_tz

    return timezone.localtime(timezone.now(), program_tz()).date()


def compute_indicators(
    period: str | Period,
    area: str | None = None,
    site: str | None = None,
    as_of: dt.date | None = None,
    codes: list[str] | None = None,
    disaggregate: bool = True,
    *,
    runner: Runner | None = None,
) -> list[dict]:
    """Compute indicators for ``period`` ("2025", "2025Q1", "2025-03" or "202503", or a parsed
    :class:`~salus.indicators.periods.Period`).

    ``area`` is an area path (or a unique area code) and takes in every site below it; ``site``
    is a site code; neither means the whole program. ``as_of`` (default today, program time
    zone) closes the OST retention cohort and stands in for the census date of a period that
    is not over. ``codes`` limits the indicators (default: the whole catalogue).

    Returns one dict per indicator and cell with keys ``code, period, area, site,
    disaggregation, value, programme_value, numerator, denominator, value_low, value_high,
    level, note`` (plus ``kind`` and ``population_denominator``). ``disaggregation`` is ``{}``
    for the total, else ``{"sex": "F"}``, ``{"age": "<25"}``, ``{"sex":..., "age":...}``,
    ``{"area": path}``, ``{"area": path, "site": code}`` (``{"commodity": ...}`` for
    STOCKOUT_DAYS). Proportions are fractions 0-1. Values are not suppressed: pass the rows
    through salus.indicators.suppression before they leave the system.
    """
    p = parse_period(period) if isinstance(period, str) else period
    wanted = list(codes) if codes else list(cat.CODES)
    unknown = [c for c in wanted if c not in cat.BY_CODE]
    if unknown:
        raise KeyError(f"unknown indicator code(s): {', '.join(unknown)}")
    # Catalogue order, whatever order they were asked in.
    wanted = [c for c in cat.CODES if c in set(wanted)]
    scope = Scope(area=area, site=site)
    as_of = as_of or today()
    census = max(p.start, min(p.end, as_of))
    own_runner = runner is None
    runner = runner or choose_runner()
    try:
        comp = _Computation(runner, p, scope, census, as_of, wanted)
        contact_codes = {
            "NSP_SYRINGES_PER_PWID", "NSP_COVERAGE", "NSP_REGULAR", "HTS_PWID", "PREVENTION_PACKAGE",
            "ART_PWID", "CLIENTS_REACHED", "NEW_CLIENTS", "CONTACTS", "SYRINGES_DISTRIBUTED",
            "SYRINGE_RETURN_RATE", "CONDOMS_DISTRIBUTED", "NALOXONE_KITS_DISTRIBUTED", "HIV_TESTS",
            "HIV_POSITIVITY", "HCV_TESTS", "HCV_POSITIVITY",
        }
        if comp.needs("OST_COVERAGE", "OST_MIN_DOSE", "OST_RETENTION_6M", "REFERRAL_COMPLETION",
                      "OVERDOSE_REVERSALS", *contact_codes):
            comp.clients  # noqa: B018 - made once, before two threads could both make it
        # The read keeps both cores busy by itself. The steps after it, each with the steps it
        # needs; the order is that of a single thread, and the priority on two.
        steps: list[tuple] = []
        if comp.needs(*contact_codes):
            comp.read_contacts()
            steps += [(comp.contacts, ()), (comp.decrypt_results, ())]
            if comp.needs("HIV_POSITIVITY", "HCV_POSITIVITY", "ART_PWID"):
                steps.append((comp.clinical, (comp.contacts, comp.decrypt_results)))
        steps += [
            (step, ()) for step, codes in (
                (comp.ost, ("OST_COVERAGE", "OST_MIN_DOSE", "OST_RETENTION_6M")),
                (comp.stockouts, ("STOCKOUT_DAYS",)),
                (comp.referrals, ("REFERRAL_COMPLETION",)),
                (comp.overdoses, ("OVERDOSE_REVERSALS",)),
            ) if comp.needs(*codes)
        ]
        _run_steps(runner, steps)
    finally:
        if own_runner:
            runner.close()
    return _build_rows(comp, scope, p, wanted, disaggregate, census)


def _run_steps(runner: Runner, steps: list[tuple]) -> None:
    """Run each ``step(runner)`` of ``steps`` ((step, steps it needs) pairs) once the steps it
    needs are done; on two threads when the runner can.

    DuckDB releases the GIL while it works and decryption is Python, so two threads keep both
    cores busy: a DuckDB runner lends a second cursor (``runner.fork()``) and each thread takes
    the first step in ``steps`` whose needs are met. The native runner has one database
    connection: one step after the other, in the order given (which must list a step after
    the ones it needs).
    """
    side = runner.fork() if len(steps) > 1 else None
    if side is None:
        for step, _needs in steps:
            step(runner)
        return
    todo = list(steps)
    done: set = set()
    failure: list[BaseException] = []
    ready = threading.Condition()

    def work(r: Runner) -> None:
        while True:
            with ready:
                while True:
                    if failure or not todo:
                        return
                    found = next((i for i, (_step, needs) in enumerate(todo) if done.issuperset(needs)), None)
                    if found is not None:
                        step, _needs = todo.pop(found)
                        break
                    ready.wait()
            try:
                step(r)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
                with ready:
                    failure.append(exc)
                    ready.notify_all()
                return
            with ready:
                done.add(step)
                ready.notify_all()

    thread = threading.Thread(target=work, args=(side,), name="salus-indicators-side")
    thread.start()
    try:
        work(runner)
    finally:
        thread.join()
        side.close()
    if failure:
        raise failure[0]


# What dashboards draw month by month.
TREND_CODES = ("CLIENTS_REACHED", "NEW_CLIENTS", "SYRINGES_DISTRIBUTED", "HIV_TESTS", "OST_COVERAGE")


# The measures the trend makes for all its months in one pass (see _trend_in_one_pass): sums
# of the contacts (measure -> SQL over the contacts read), the clients reached and new (and
# the PWID among them given syringes), the positive results, the clients on OST, the overdose reversals and the referrals.
_TREND_SUMS = {
    "contacts": "COUNT(*)", "syringes": "SUM(syringes_given)", "returned": "SUM(syringes_returned)",
    "condoms": "SUM(condoms_given)", "naloxone": "SUM(naloxone_kits_given)",
    "hiv_tests": "SUM(hiv_result_given)", "hcv_tests": "SUM(hcv_result_given)",
}
_TREND_CONTACT_MEASURES = {*_TREND_SUMS, "reached", "new", "pwid_syr", "hiv_pos", "hcv_pos"}
_TREND_MEASURES = {*_TREND_CONTACT_MEASURES, "on_ost", "od_reversals", "ref_made", "ref_attended"}


def trend_in_one_pass(code: str) -> bool:
    """Whether :func:`monthly_trend` makes ``code`` for all its months in one pass."""
    return all(m in _TREND_MEASURES for m in MEASURES[code] if m)


def monthly_trend(
    codes: list[str] | None,
    start_period: str,
    end_period: str,
    area: str | None = None,
    site: str | None = None,
    *,
    disaggregate: bool = False,
    runner: Runner | None = None,
    fine_out: dict[str, dict[tuple, dict[str, int]]] | None = None,
) -> list[dict]:
    """Rows of ``codes`` (default TREND_CODES) for every month from ``start_period`` to ``end_period``.

    Month by month in order, ``period`` being ``YYYY-MM``, each month's rows are exactly those
    :func:`compute_indicators` gives for that month with the same ``disaggregate`` (default:
    totals only, ``disaggregation`` ``{}``). Unique clients are unique within each month;
    OST_COVERAGE counts clients on OST on each month's census date (its last day, or today).
    Months that have not started are left out. Values are not suppressed.

    The counts dashboards draw (clients reached and new, contacts, the commodities and tests
    given, clients on OST) are made in one pass for all the months: the contacts are read once
    and summed per month. Other codes are computed month by month.

    With ``fine_out`` (codes made in one pass only, ``disaggregate`` True), it is also given
    each month's sums before they are added into cells: ``fine_out[month label][(sex, age band,
    area path, site code)]`` maps each measure (:data:`MEASURES`) to its count, cells with
    nothing left out. Every cell of every place in scope is a sum of these.
    """
    wanted = list(codes or TREND_CODES)
    unknown = [c for c in wanted if c not in cat.BY_CODE]
    if unknown:
        raise KeyError(f"unknown indicator code(s): {', '.join(unknown)}")
    wanted = [c for c in cat.CODES if c in set(wanted)]
    if fine_out is not None and not (disaggregate and all(trend_in_one_pass(code) for code in wanted)):
        raise ValueError("fine_out needs disaggregate=True and codes made in one pass")
    as_of = today()
    months = [m for m in months_between(parse_period(start_period), parse_period(end_period)) if m.start <= as_of]
    if not months:
        return []
    out: list[dict] = []
    own_runner = runner is None
    runner = runner or choose_runner()
    try:
        if all(trend_in_one_pass(code) for code in wanted):
            return _trend_in_one_pass(runner, months, Scope(area=area, site=site), wanted, as_of, disaggregate,
                                      fine_out)
        for month in months:
            out += compute_indicators(month, area=area, site=site, codes=wanted, disaggregate=disaggregate,
                                      as_of=as_of, runner=runner)
            runner_reset(runner)
    finally:
        if own_runner:
            runner.close()
        else:
            runner_reset(runner)
    return out


class _Sums:
    """Measures already summed per fine cell (what :func:`_build_rows` reads of a computation)."""

    def __init__(self, fine: dict[tuple, Counter]):
        self.fine = fine
        self.stock: dict[tuple, int] = {}


def _trend_in_one_pass(runner: Runner, months: list[Period], scope: Scope, wanted: list[str],
                       as_of: dt.date, disaggregate: bool,
                       fine_out: dict[str, dict[tuple, dict[str, int]]] | None = None) -> list[dict]:
    """:func:`monthly_trend` for codes whose measures are all in _TREND_MEASURES, in one read.

    The rules of :func:`compute_indicators` for one month, applied to every month at once:
    each measure is summed per month and fine cell (sex, age band in the month's year, area,
    site). A client is reached in a month with a contact in scope in it, in the cell of the
    site of their last contact that month; new in it when their first-ever contact is not
    before their first contact in scope that month, in the cell of that contact's site; on
    OST on a month's census date with an episode in scope active that day, in the cell of the
    site of their latest-started one. Ties are broken as :meth:`_Computation._clients` and
    :meth:`_Computation.ost` break them.
    """
    first, last = months[0], months[-1]
    span = Period(start=first.start, end=last.end, label=f"{first.label}/{last.label}",
                  days=(last.end - first.start).days + 1, kind="months")
    censuses = {m.start.year * 12 + m.start.month: max(m.start, min(m.end, as_of)) for m in months}
    comp = _Computation(runner, span, scope, censuses[max(censuses)], as_of, wanted)
    d, r, t = runner.dialect, runner, comp.t
    clients = r.materialise("ind_trend_clients", f"""
        SELECT {r.uuid('cl.id')} AS client_id, cl.sex AS sex, cl.birth_year AS birth_year,
               cl.first_contact_date AS fcd, {d.flag('cl.injects')} AS injects
        FROM {t.client} cl""")

    def age(month: str) -> str:
        # The age band in the year of month number ``month`` (year * 12 + month): aged 24 or
        # less that year exactly when month <= 12 * birth year + 300.
        return (f"CASE WHEN c.birth_year IS NULL THEN 'unknown' "
                f"WHEN {month} <= 12 * c.birth_year + 300 THEN '<25' ELSE '25+' END")

    fine: dict[int, dict[tuple, Counter]] = defaultdict(lambda: defaultdict(Counter))

    def add(rows, names: tuple[str, ...]) -> None:
        for number, sex, band, area, site, *values in rows:
            bucket = fine[int(number)][(sex or "X", band, area, site)]
            for name, value in zip(names, values, strict=True):
                bucket[name] += int(value or 0)

    measures = {m for code in wanted for m in MEASURES[code] if m}
    summed = sorted(measures & set(_TREND_SUMS))
    if measures & _TREND_CONTACT_MEASURES:
        comp.read_contacts()
        month = d.month_number("date")
        if not disaggregate:
            # Totals only: no cell to find, so no site to rank.
            if summed:
                add(r.rows(f"""
                    SELECT {month}, NULL, NULL, NULL, NULL, {', '.join(_TREND_SUMS[m] for m in summed)}
                    FROM {comp.scan} WHERE in_period = 1 GROUP BY {month}"""), tuple(summed))
            if measures & {"reached", "new", "pwid_syr"}:
                per_client = r.materialise("ind_trend_pcl", f"""
                    SELECT client_id, {month} AS m, MIN(date) AS month_first,
                           MAX(CASE WHEN syringes_given > 0 THEN 1 ELSE 0 END) AS any_syr
                    FROM {comp.scan} WHERE in_period = 1 GROUP BY client_id, {month}""")
                new = _may_be_new("c.fcd", "x.month_first")
                firsts = comp.first_sites(r, f"""
                    SELECT x.client_id FROM {per_client} x JOIN {clients} c ON c.client_id = x.client_id
                    WHERE {new}""") if "new" in measures else None
                join = ""
                if firsts is not None:
                    # Not new here when first seen at a site out of scope (first_sites).
                    join = f"LEFT JOIN {firsts} f ON f.client_id = x.client_id"
                    new += (f" AND (f.first_rank IS NULL OR f.first_rank IN ("
                            f"SELECT s.site_rank FROM {comp.sites} s WHERE {scope.sql('s', 's', 'area_path')}))")
                add(r.rows(f"""
                    SELECT x.m, NULL, NULL, NULL, NULL, COUNT(*),
                           SUM(CASE WHEN {new} THEN 1 ELSE 0 END),
                           SUM(CASE WHEN c.injects = 1 AND x.any_syr = 1 THEN 1 ELSE 0 END)
                    FROM {per_client} x JOIN {clients} c ON c.client_id = x.client_id {join}
                    GROUP BY x.m"""), ("reached", "new", "pwid_syr"))
        else:
            _trend_cells(comp, clients, age, add, summed, measures)
        if measures & {"hiv_pos", "hcv_pos"}:
            _trend_positives(comp, clients, age, add)
    _trend_events(comp, clients, age, add, measures)
    if "on_ost" in measures:
        days = " UNION ALL ".join(f"SELECT {number} AS m, {d.date(day)} AS census" for number, day in censuses.items())
        add(r.rows(f"""
            SELECT x.m, c.sex, {age('x.m')}, x.area_path, x.site_code, COUNT(*)
            FROM (
                SELECT k.m AS m, e.client_id AS client_id, s.area_path AS area_path, s.code AS site_code,
                       ROW_NUMBER() OVER (PARTITION BY k.m, e.client_id ORDER BY e.start_date DESC, e.id DESC) AS rn
                FROM ({days}) k
                JOIN {t.episode} e ON e.start_date <= k.census AND (e.end_date IS NULL OR e.end_date >= k.census)
                JOIN {comp.sites} s ON s.id = e.site_id
                WHERE {scope.sql('s', 's', 'area_path')}) x
            JOIN {clients} c ON c.client_id = x.client_id
            WHERE x.rn = 1
            GROUP BY x.m, c.sex, {age('x.m')}, x.area_path, x.site_code"""), ("on_ost",))
    out: list[dict] = []
    for m in months:
        number = m.start.year * 12 + m.start.month
        out += _build_rows(_Sums(fine[number]), scope, m, wanted, disaggregate, censuses[number])
        if fine_out is not None:
            fine_out[m.label] = {key: dict(measures) for key, measures in fine[number].items()}
    return out


def _trend_positives(comp: _Computation, clients: str, age, add) -> None:
    """Positive HIV and HCV results given, per month and fine cell, as
    :meth:`_Computation._positivity` counts them for one period (site: the contact's)."""
    r, d = comp.r, comp.d
    comp.decrypt_results(r)
    try:
        for test in ("hiv", "hcv"):
            if f"{test}_pos" not in comp.flags:
                continue
            month = d.month_number("x.date")
            add(r.rows(f"""
                SELECT {month}, c.sex, {age(month)}, s.area_path, s.code, COUNT(*)
                FROM {comp.scan} x JOIN {clients} c ON c.client_id = x.client_id
                JOIN {comp.sites} s ON s.id = x.site_id
                WHERE x.in_period = 1 AND x.{test}_ct IN (SELECT ct FROM {comp.flags[f'{test}_pos']})
                GROUP BY {month}, c.sex, {age(month)}, s.area_path, s.code"""), (f"{test}_pos",))
    finally:
        for table in comp.flags.values():
            r.drop(table)
        comp.flags = {}


def _trend_events(comp: _Computation, clients: str, age, add, measures: set[str]) -> None:
    """Overdose reversals and referrals (made, attended) per month and fine cell, as
    :meth:`_Computation.overdoses` and :meth:`_Computation.referrals` count them for one period."""
    r, d, t, p = comp.r, comp.d, comp.t, comp.p
    within = comp.scope.sql("s", "s", "area_path")
    if "od_reversals" in measures:
        month = d.month_number("o.date")
        add(r.rows(f"""
            SELECT {month}, c.sex, {age(month)}, s.area_path, s.code, COUNT(*)
            FROM {t.overdose} o
            JOIN {comp.sites} s ON s.id = o.site_id
            JOIN {clients} c ON c.client_id = o.client_id
            WHERE o.date >= {comp._lit(p.start)} AND o.date <= {comp._lit(p.end)}
              AND {d.flag('o.naloxone_given')} = 1 AND o.outcome = 'survived' AND {within}
            GROUP BY {month}, c.sex, {age(month)}, s.area_path, s.code"""), ("od_reversals",))
    if measures & {"ref_made", "ref_attended"}:
        month = d.month_number("rf.made_on")
        add(r.rows(f"""
            SELECT {month}, c.sex, {age(month)}, s.area_path, s.code, COUNT(*),
                   SUM(CASE WHEN rf.status = 'attended' THEN 1 ELSE 0 END)
            FROM {t.referral} rf
            JOIN {comp.sites} s ON s.id = rf.site_id
            JOIN {clients} c ON c.client_id = rf.client_id
            WHERE rf.made_on >= {comp._lit(p.start)} AND rf.made_on <= {comp._lit(p.end)} AND {within}
            GROUP BY {month}, c.sex, {age(month)}, s.area_path, s.code"""), ("ref_made", "ref_attended"))


def _trend_cells(comp: _Computation, clients: str, age, add, summed: list[str], measures: set[str]) -> None:
    """The contact measures of :func:`_trend_in_one_pass` per month and fine cell."""
    r, d = comp.r, comp.d
    month = d.month_number("date")
    # Per client, site and month; then each measure per month and fine cell.
    per_site = r.materialise("ind_trend_pcs", f"""
        SELECT g.*, s.site_rank AS site_rank, s.area_path AS area_path, s.code AS site_code FROM (
            SELECT client_id, site_id, {month} AS m, {', '.join(f'{sql} AS {name}' for name, sql in _TREND_SUMS.items())},
                   MAX(occurred_at) AS last_at, MIN(occurred_at) AS first_at, MIN(date) AS first_date
            FROM {comp.scan} WHERE in_period = 1
            GROUP BY client_id, site_id, {month}) g
        JOIN {comp.sites} s ON s.id = g.site_id""")
    if summed:
        add(r.rows(f"""
            SELECT p.m, c.sex, {age('p.m')}, p.area_path, p.site_code, {', '.join(f'SUM(p.{m})' for m in summed)}
            FROM {per_site} p JOIN {clients} c ON c.client_id = p.client_id
            GROUP BY p.m, c.sex, {age('p.m')}, p.area_path, p.site_code"""), tuple(summed))
    if not measures & {"reached", "new", "pwid_syr"}:
        return
    # Each client's last and first site in each month, ranked as _Computation._clients ranks
    # them (ties: the last goes to the greater site code, the first to the lesser).
    if d.name == "duckdb":
        key = "CAST(epoch_us({}) AS HUGEINT) * 1000000 + site_rank"
        per_client = r.materialise("ind_trend_pcl", f"""
            SELECT client_id, m, arg_max(site_rank, {key.format('last_at')}) AS last_rank,
                   arg_min(site_rank, {key.format('first_at')}) AS first_rank, MIN(first_date) AS month_first,
                   MAX(CASE WHEN syringes > 0 THEN 1 ELSE 0 END) AS any_syr
            FROM {per_site} GROUP BY client_id, m""")
    else:
        per_client = r.materialise("ind_trend_pcl", f"""
            SELECT client_id, m, MAX(CASE WHEN last_order = 1 THEN site_rank END) AS last_rank,
                   MAX(CASE WHEN first_order = 1 THEN site_rank END) AS first_rank, MIN(first_date) AS month_first,
                   MAX(CASE WHEN syringes > 0 THEN 1 ELSE 0 END) AS any_syr
            FROM (SELECT client_id, m, site_rank, first_date, syringes,
                         ROW_NUMBER() OVER (PARTITION BY client_id, m ORDER BY last_at DESC, site_rank DESC) AS last_order,
                         ROW_NUMBER() OVER (PARTITION BY client_id, m ORDER BY first_at ASC, site_rank ASC) AS first_order
                  FROM {per_site}) ranked
            GROUP BY client_id, m""")
    new = _may_be_new("c.fcd", "p.month_first")
    for name, rank, condition in (("reached", "last_rank", "1 = 1"), ("new", "first_rank", new),
                                  ("pwid_syr", "last_rank", "c.injects = 1 AND p.any_syr = 1")):
        if name not in measures:
            continue
        site = f"JOIN {comp.sites} s ON s.site_rank = p.{rank}"
        if name == "new":
            site = comp.first_site_join(comp.first_sites(r, f"""
                SELECT p.client_id FROM {per_client} p JOIN {clients} c ON c.client_id = p.client_id
                WHERE {new}"""))
        add(r.rows(f"""
            SELECT p.m, c.sex, {age('p.m')}, s.area_path, s.code, COUNT(*)
            FROM {per_client} p JOIN {clients} c ON c.client_id = p.client_id
            {site}
            WHERE {condition}
            GROUP BY p.m, c.sex, {age('p.m')}, s.area_path, s.code"""), (name,))


def runner_reset(runner: Runner) -> None:
    """Drop the tables of one computation so the runner can serve the next."""
    if hasattr(runner, "reset"):
        runner.reset()
    else:
        runner.close()
