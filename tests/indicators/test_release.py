"""Suppression across periods: a month hidden on one page cannot be found from the quarter, the
year and the other months shown on others (salus.indicators.release)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.indicators.test_suppression import AGES, SEXES, solvable
from tests.indicators.test_suppression import table as one_period_table

from salus.core import spread
from salus.indicators.release import pattern_of_year, suppressed_indicators
from salus.indicators.suppression import suppress_groups

QUARTERS = {f"2025Q{q}": [f"2025-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)] for q in range(1, 5)}


def year_tables(fine_by_month: dict[str, dict], code: str) -> dict[str, list[dict]]:
    """Each period's engine-shaped table: the months from their fine counts, each quarter and
    the year from the fine counts of their months (what the engine counts for them)."""
    def summed(months: list[str]) -> dict:
        # Every site in every period, as the engine gives every site in scope.
        total: dict = {("F", "25+", area, site): 0 for area in ("XL/N", "XL/S") for site in ("S1", "S2", "S3")}
        for m in months:
            for key, n in fine_by_month.get(m, {}).items():
                total[key] = total.get(key, 0) + n
        return total

    periods = {m: [m] for ms in QUARTERS.values() for m in ms} | QUARTERS | {"2025": sorted(fine_by_month)}
    out = {}
    for period, months in periods.items():
        cells = one_period_table(summed(months), code=code)
        for c in cells:
            c["period"] = period
        out[period] = cells
    return out


def all_groups(tables: dict[str, list[dict]]) -> tuple[list[dict], list[tuple[int, list[int]]]]:
    """Every cell of every period in one list, and the groups an attacker would write: within
    each period by hand (as test_suppression does), and each quarter and the year as sums of
    their parts, cell by cell."""
    from tests.indicators.test_suppression import groups

    cells: list[dict] = []
    eqs: list[tuple[int, list[int]]] = []
    where: dict[tuple, int] = {}
    for period, table in tables.items():
        offset = len(cells)
        cells += table
        eqs += [(p + offset, [c + offset for c in ch]) for p, ch in groups(table)]
        for i, c in enumerate(table):
            where[(period, tuple(sorted(c["disaggregation"].items())))] = offset + i
    for parent, parts in [*QUARTERS.items(), ("2025", list(QUARTERS))]:
        for (period, dis), i in where.items():
            if period == parent:
                eqs.append((i, [where[(part, dis)] for part in parts]))
    return cells, eqs


def published(tables: dict[str, list[dict]], threshold: int) -> list[dict]:
    """What pages and files show of each period: the year's pattern."""
    months = [c for m in sorted(tables) if len(m) == 7 for c in tables[m]]
    pattern = pattern_of_year(months, [], threshold)
    out = []
    for table in tables.values():
        for c in table:
            key = (c["code"], c["period"], tuple(sorted(c["disaggregation"].items())))
            if "numerator" in pattern.get(key, ()):
                c = dict(c, numerator=None, value=None, programme_value=None, suppressed=True)
            out.append(c)
    return out


fine_key = st.tuples(st.sampled_from(SEXES), st.sampled_from(AGES),
                     st.sampled_from(["XL/N", "XL/S"]), st.sampled_from(["S1", "S2", "S3"]))
year_of_counts = st.dictionaries(
    st.sampled_from([f"2025-{m:02d}" for m in range(1, 13)]),
    st.dictionaries(fine_key, st.integers(min_value=0, max_value=12), max_size=5),
    min_size=1, max_size=12,
).map(lambda d: {f"2025-{m:02d}": d.get(f"2025-{m:02d}", {}) for m in range(1, 13)})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fine=year_of_counts, threshold=st.integers(min_value=2, max_value=6))
def test_no_hidden_count_of_any_period_can_be_solved_from_all_the_others(fine, threshold):
    tables = year_tables(fine, "HIV_TESTS")
    cells, eqs = all_groups(tables)
    shown = published(tables, threshold)
    values = [c["numerator"] for c in cells]
    hidden = {i for i, c in enumerate(shown) if c["numerator"] is None}
    assert not [i for i, v in enumerate(values) if 0 < v < threshold and i not in hidden]
    assert solvable(values, hidden, eqs) == []


def test_each_period_alone_would_give_a_month_away():
    """The attack the year's pattern stops: suppressed one period at a time, February's 2 is
    the quarter's total minus January and March."""
    fine = {f"2025-{m:02d}": {} for m in range(1, 13)}
    fine["2025-01"] = {("F", "25+", "XL/N", "S1"): 6}
    fine["2025-02"] = {("F", "25+", "XL/N", "S1"): 2}
    fine["2025-03"] = {("F", "25+", "XL/N", "S1"): 7}
    tables = year_tables(fine, "HIV_TESTS")
    alone = {p: {tuple(sorted(c["disaggregation"].items())): c["numerator"] for c in suppress_groups(t, 5)}
             for p, t in tables.items()}
    assert alone["2025-02"][()] is None
    assert alone["2025Q1"][()] - alone["2025-01"][()] - alone["2025-03"][()] == 2
    together = {(c["period"], tuple(sorted(c["disaggregation"].items()))): c["numerator"]
                for c in published(tables, 5)}
    months = [together[(m, ())] for m in QUARTERS["2025Q1"]]
    assert months.count(None) >= 2 or together[("2025Q1", ())] is None


@pytest.fixture
def tested(program, record_contact):
    """HIV tests with a result given at site A (NA1): 6 in January, 2 in February, 7 in March
    2025, each by a different client; one in June at site B (SB1)."""
    uics = iter(f"{a}{b}CD19{n:02d}F" for n, (a, b) in enumerate(zip("ABCDEFGHIJKLMNOP", "QRSTUVWXYZABCDEF", strict=True)))
    for month, n in ((1, 6), (2, 2), (3, 7)):
        for _ in range(n):
            record_contact(program.site_a, next(uics), when=dt.date(2025, month, 10), hiv_test_result="negative")
    record_contact(program.site_b, next(uics), when=dt.date(2025, 6, 3), hiv_test_result="negative")
    return program


@pytest.mark.parametrize("place", [{}, {"site": "NA1"}, {"area": "XL/NORTH"}])
def test_the_published_periods_of_a_year_do_not_give_a_month_away(tested, place):
    """Every period of 2025 as a page or an export shows it: no cell of HIV_TESTS hidden in a
    month is its quarter's (or the year's) total minus the other parts shown."""
    periods = ["2025", *QUARTERS, *(m for ms in QUARTERS.values() for m in ms)]
    shown = {}
    for period in periods:
        for c in suppressed_indicators(period, codes=["HIV_TESTS", "HIV_POSITIVITY"], as_of=dt.date(2026, 1, 1), **place):
            shown[(c["code"], period, tuple(sorted(c["disaggregation"].items())))] = c
    assert shown[("HIV_TESTS", "2025-02", ())]["numerator"] is None
    for code, field in (("HIV_TESTS", "numerator"), ("HIV_POSITIVITY", "denominator")):
        for (c, period, dis), cell in shown.items():
            if c != code or period not in QUARTERS and period != "2025":
                continue
            parts = QUARTERS.get(period, list(QUARTERS))
            values = [shown[(code, p, dis)][field] for p in parts if (code, p, dis) in shown]
            if cell[field] is not None:
                assert values.count(None) != 1, (code, period, dis, cell[field], values)
    # The same cells are hidden in the HIV test count and in the positivity's denominator.
    for (c, period, dis), cell in shown.items():
        if c == "HIV_TESTS":
            assert (cell["numerator"] is None) == (shown[("HIV_POSITIVITY", period, dis)]["denominator"] is None)


def test_counts_that_do_not_add_up_over_time_keep_their_own_periods_rule(tested):
    """Clients reached are unique within each period: February's months do not sum to the
    quarter, and only its own table decides what it hides."""
    feb = suppressed_indicators("2025-02", codes=["CLIENTS_REACHED"], site="NA1", as_of=dt.date(2026, 1, 1))
    jan = suppressed_indicators("2025-01", codes=["CLIENTS_REACHED"], site="NA1", as_of=dt.date(2026, 1, 1))
    assert [c["numerator"] for c in feb if not c["disaggregation"]] == [None]
    assert [c["numerator"] for c in jan if not c["disaggregation"]] == [6]


def test_totals_only_hide_what_the_full_table_hides(tested):
    full = suppressed_indicators("2025-01", codes=["HIV_TESTS"], site="NA1", as_of=dt.date(2026, 1, 1))
    totals = suppressed_indicators("2025-01", codes=["HIV_TESTS"], site="NA1", as_of=dt.date(2026, 1, 1),
                                   disaggregate=False)
    assert totals == [c for c in full if not c["disaggregation"]]


@pytest.fixture
def events(program, record_contact):
    """Results, syringes, overdoses and referrals in several months of 2025 at both sites:
    what the year's months are counted from in one pass."""
    from salus.services.actions import do_create_referral, do_record_overdose, do_update_referral

    seen = {}
    plan = [  # (site, uic, month, HIV result, HCV result)
        (program.site_a, "ABCD1990F", 1, "positive", "negative"),
        (program.site_a, "EFGH1991M", 1, "negative", "positive"),
        (program.site_a, "ABCD1990F", 2, "negative", ""),
        (program.site_b, "IJKL2004F", 2, "positive", "positive"),
        (program.site_b, "MNOP1970M", 6, "positive", ""),
        (program.site_a, "EFGH1991M", 6, "", "negative"),
    ]
    for site, uic, month, hiv, hcv in plan:
        contact = record_contact(site, uic, when=dt.date(2025, month, 5), hiv_test_result=hiv, hcv_test_result=hcv,
                                 syringes_given=10 if month < 6 else 0)
        seen[uic] = contact.client
    # Syringes to a client who does not inject: not among the PWID given syringes.
    record_contact(program.site_a, "QRST1985M", when=dt.date(2025, 3, 5), syringes_given=10, injects=False)
    for n, (site, uic, month, naloxone, outcome) in enumerate([
        (program.site_a, "ABCD1990F", 2, True, "survived"),
        (program.site_a, "EFGH1991M", 2, False, "survived"),
        (program.site_b, "IJKL2004F", 3, True, "died"),
        (program.site_b, "MNOP1970M", 6, True, "survived"),
    ]):
        do_record_overdose("test", client=seen[uic], site=site, date=dt.date(2025, month, 10 + n),
                           involvement="witnessed", naloxone_given=naloxone, naloxone_kits_used=int(naloxone),
                           outcome=outcome, emergency_called=False)
    for site, uic, month, status in [(program.site_a, "ABCD1990F", 1, "attended"),
                                     (program.site_a, "EFGH1991M", 2, "made"),
                                     (program.site_b, "IJKL2004F", 2, "attended"),
                                     (program.site_b, "MNOP1970M", 7, "not_attended")]:
        referral = do_create_referral("test", client=seen[uic], site=site, service="hcv_care",
                                      made_on=dt.date(2025, month, 6))
        if status != "made":
            do_update_referral("test", referral, status=status, outcome_on=dt.date(2025, month, 9))
    return program


@pytest.mark.parametrize("place", [{}, {"site": "SB1"}, {"area": "XL/NORTH"}])
@pytest.mark.parametrize("disaggregate", [True, False])
def test_the_years_months_in_one_pass_are_the_months_one_by_one(events, place, disaggregate):
    """Every count that adds up over time, as the year's pattern reads it (one pass over the
    year), against compute_indicators for each month on its own."""
    from salus.indicators.catalogue import BY_CODE, CODES
    from salus.indicators.engine import compute_indicators, monthly_trend, trend_in_one_pass

    codes = [c for c in CODES if BY_CODE[c].adds_over_time]
    assert all(trend_in_one_pass(c) for c in codes)

    def numbers(rows):
        return {(r["code"], r["period"], tuple(sorted(r["disaggregation"].items()))): (r["numerator"], r["denominator"])
                for r in rows}

    one_pass = numbers(monthly_trend(codes, "2025-01", "2025-12", disaggregate=disaggregate, **place))
    by_month = {}
    for month in range(1, 13):
        by_month |= numbers(compute_indicators(f"2025-{month:02d}", codes=codes, disaggregate=disaggregate, **place))
    assert one_pass == by_month
    if not place:
        assert by_month[("OVERDOSE_REVERSALS", "2025-02", ())] == (1, None)
        assert by_month[("HIV_POSITIVITY", "2025-02", ())] == (1, 2)
        assert by_month[("REFERRAL_COMPLETION", "2025-02", ())] == (1, 2)
        assert by_month[("NSP_SYRINGES_PER_PWID", "2025-03", ())] == (10, 0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fine=year_of_counts, threshold=st.integers(min_value=2, max_value=6), seed=st.integers(0, 2**16))
def test_the_same_numbers_hide_the_same_cells_in_whatever_order_they_come(fine, threshold, seed):
    """Two pages of one year build the year's table from rows in whatever order the database
    gave them; ties between equal counts must not fall differently, or the two pages together
    would show what each hides."""
    import random

    months = [c for m, t in year_tables(fine, "HIV_TESTS").items() if len(m) == 7 for c in t]
    shuffled = list(months)
    random.Random(seed).shuffle(shuffled)
    assert pattern_of_year(months, [], threshold) == pattern_of_year(shuffled, [], threshold)


def test_the_web_apps_page_of_the_same_numbers_is_not_counted_again(tested, record_contact, monkeypatch):
    """The web app (``cached``) keeps a year's pattern under the count of its months and the
    page's own numbers: a page asked again is not worked out again, and shows what a count
    afresh shows; a page whose numbers changed is worked out again, with them."""
    from django.core.cache import cache

    from salus.indicators import release

    cache.clear()
    counted = []
    real = release.pattern_of_year
    monkeypatch.setattr(release, "pattern_of_year", lambda *a, **k: counted.append(1) or real(*a, **k))

    def page(cached=True):
        return suppressed_indicators("2025Q1", codes=["HIV_TESTS"], site="NA1", as_of=dt.date(2026, 1, 1),
                                     cached=cached)

    first = page()
    assert page() == first
    assert len(counted) == 1
    assert page(cached=False) == first
    assert len(counted) == 2
    def february(cached):
        return suppressed_indicators("2025-02", codes=["HIV_TESTS"], site="NA1", as_of=dt.date(2026, 1, 1),
                                     cached=cached)

    feb = february(cached=True)  # another page: its tables found among the quarter's, or not
    assert len(counted) == 3
    assert feb == february(cached=False)
    assert next(c for c in feb if not c["disaggregation"])["numerator"] is None
    record_contact(tested.site_a, "ZYXW1980M", when=dt.date(2025, 2, 11), hiv_test_result="negative")
    after = page()
    assert len(counted) == 5

    def men(cells):
        return next(c["numerator"] for c in cells if c["disaggregation"] == {"sex": "M"})

    assert men(first) == 0
    assert men(after) is None  # the new client: one man, a small count
    cache.clear()


def test_a_year_whose_numbers_did_not_change_is_not_worked_out_again_when_its_months_are(tested, monkeypatch):
    """The months are counted again once their minutes are over; what was worked out from
    them is kept under a name of their numbers, so the same numbers find it again."""
    from django.core.cache import cache

    from salus.indicators import engine, release

    cache.clear()
    monkeypatch.setattr(release, "YEAR_CACHE_SECONDS", 0)  # the months are never kept
    counted, months = [], []
    real_pattern, real_trend = release.pattern_of_year, engine.monthly_trend
    monkeypatch.setattr(release, "pattern_of_year", lambda *a, **k: counted.append(1) or real_pattern(*a, **k))
    monkeypatch.setattr(engine, "monthly_trend", lambda *a, **k: months.append(1) or real_trend(*a, **k))

    def page():
        return suppressed_indicators("2025Q1", codes=["HIV_TESTS"], site="NA1", as_of=dt.date(2026, 1, 1), cached=True)

    first = page()
    counted_once, months_once = len(counted), len(months)
    assert page() == first
    assert len(months) == 2 * months_once  # counted again
    assert len(counted) == counted_once == 1  # but not worked out again
    cache.clear()


def test_a_page_of_a_few_indicators_hides_what_the_whole_page_hides(program, record_contact):
    """A count's pattern hangs on the counts it is at most (they are boxed and audited as one
    chain): a DHIS2 export of its mapped codes, or the dashboard's trends, once showed 6
    contacts at a site in a month that the whole indicators page hid (found by
    test_export_properties). Each smaller set of codes now hides what the whole page hides."""
    from salus.core.actions import do_ensure_area_path, do_save_site
    from salus.indicators.release import linked_codes
    from salus.reports.dashboard import COVERAGE_CODES, TREND_MEASURES

    nb2, _ = do_save_site("test", code="NB2", name="North second", area=do_ensure_area_path("test", "XL/NORTH/N2"),
                          kind="drop_in")
    na1, sb1 = program.site_a, program.site_b
    visits = {  # each client's contacts in 2025: (site, month, day, hour, services)
        "A": [(nb2, 8, 4, 10, {"education": True}), (na1, 8, 26, 16, {}), (sb1, 10, 21, 17, {}), (nb2, 10, 26, 17, {})],
        "B": [(nb2, 8, 20, 12, {}), (na1, 11, 14, 10, {})],
        "C": [(sb1, 8, 1, 8, {}), (nb2, 11, 25, 8, {})],
        "D": [(na1, 7, 18, 8, {}), (na1, 10, 6, 8, {}), (nb2, 10, 6, 8, {"syringes_given": 1}), (na1, 11, 15, 8, {}),
              (nb2, 11, 16, 8, {})],
    }
    born = {"A": "2000X", "B": "0000F", "C": "0000X", "D": "1999F"}
    for copy in "ABC":
        for who, contacts in visits.items():
            for site, month, day, hour, services in contacts:
                when = dt.datetime(2025, month, day, hour, tzinfo=dt.UTC)
                record_contact(site, f"Q{who}{copy}Z{born[who]}", when=when, **services)
    as_of = dt.date(2025, 11, 1)

    def shown(cells: list[dict]) -> dict[tuple, tuple]:
        return {(c["code"], tuple(sorted(c["disaggregation"].items()))): (c["numerator"], c["denominator"])
                for c in cells}

    whole = shown(suppressed_indicators("2025-10", area="XL", as_of=as_of))
    assert whole[("CONTACTS", (("area", "XL/NORTH/N2"), ("site", "NB2")))] == (None, None)  # 6 contacts
    few_codes = [["CONTACTS", "CLIENTS_REACHED"], [code for code, _title in TREND_MEASURES], list(COVERAGE_CODES),
                 *([code] for code in sorted(linked_codes()))]
    for codes in few_codes:
        few = shown(suppressed_indicators("2025-10", area="XL", as_of=as_of, codes=codes))
        assert few == {k: v for k, v in whole.items() if k[0] in codes}, codes


@pytest.mark.skipif(spread.available_cores() < 2, reason="one core: nothing to share out")
@pytest.mark.parametrize("place", [{}, {"site": "NA1"}])
def test_audits_worked_out_in_other_processes_hide_the_same_cells(tested, place, monkeypatch, caplog):
    """A year's audits (and boxes) shared out over the cores (salus.core.spread) give the page
    they give here, and the other processes really answer (no warning that they did not)."""
    import logging

    from salus.indicators import release

    def page() -> list[dict]:
        return suppressed_indicators("2025-03", codes=["HIV_TESTS", "HIV_POSITIVITY", "CONTACTS"],
                                     as_of=dt.date(2026, 1, 1), **place)

    monkeypatch.setenv("SALUS_PROCESSES", "1")
    here = page()
    monkeypatch.setenv("SALUS_PROCESSES", "2")
    monkeypatch.setattr(release, "SPREAD_FROM", 0)
    started = []
    real_start = spread._start
    monkeypatch.setattr(spread, "_start", lambda pieces: started.append(len(pieces)) or real_start(pieces))
    with caplog.at_level(logging.WARNING, logger="salus.core.spread"):
        assert page() == here
    assert started, "no process was started"
    assert not caplog.records
