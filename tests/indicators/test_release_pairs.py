"""Two counts one of which is part of the other in every fine cell (positive results are some
of the results given; results at most the contacts), and chains of them (positives, results,
contacts): a reader who opens every page can use that too, on top of the sums and of no count
being negative (salus.indicators.release._audited_together, engine.PART_OF and ONE_PER_CONTACT).

The attackers here are written independently of the code under test: the unknowns are each
site's positives and each site's results given (or the chain's increments), per sex and age
band and month; every cell any page shows is an equation over them; positives are at most
the results in every fine cell and no count is negative. A hidden count that is not zero is worked out when its least
and its most over every such solution are the same (two linear programs).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.indicators.test_release_breakdowns import DEEP, MONTHS, PERIODS, Tree, row_of
from tests.indicators.test_suppression import AGES, SEXES
from tests.indicators.test_suppression import table as engine_table

from salus.indicators.release import pattern_of_year, place_pattern

CODE = "HIV_POSITIVITY"
FIELDS = ("numerator", "denominator")


def page_table(tree: Tree, fine: dict[str, dict], sites: set[str], period: str, code: str = CODE) -> list[dict]:
    """The engine's cells of ``code`` (HIV_POSITIVITY) of a page of ``sites`` for ``period``
    (``fine``: month -> (sex, age band, site) -> (positives, results given)), zeros too."""
    summed: dict[str, dict[tuple, int]] = {f: {("F", "25+", tree.site_area[s], s): 0 for s in sites} for f in FIELDS}
    for month in PERIODS[period]:
        for (sex, age, site), pair in fine.get(month, {}).items():
            if site in sites:
                key = (sex, age, tree.site_area[site], site)
                for f, n in zip(FIELDS, pair, strict=True):
                    summed[f][key] = summed[f].get(key, 0) + n
    for f in FIELDS:
        for key in summed["numerator"].keys() | summed["denominator"].keys():
            summed[f].setdefault(key, 0)
    positives = engine_table(summed["numerator"], code=code, kind="proportion")
    results = {repr(sorted(c["disaggregation"].items())): c["numerator"]
               for c in engine_table(summed["denominator"], code=code)}
    cells = []
    for c in positives:
        n, d = c["numerator"], results[repr(sorted(c["disaggregation"].items()))]
        cells.append(dict(c, period=period, denominator=d, value=n / d if d else None, programme_value=None))
    return cells


def engine_fine(tree: Tree, fine: dict[str, dict], code: str = CODE) -> dict[str, dict[tuple, dict[str, int]]]:
    """The test's pairs as the engine hands its months' sums over (``fine_out``), for ``code``."""
    from salus.indicators.engine import MEASURES

    return {m: {(sex, age, tree.site_area[s], s): dict(zip(MEASURES[code], pair, strict=True))
                for (sex, age, s), pair in fine.get(m, {}).items()} for m in MONTHS}


def published(tree: Tree, table, threshold: int, fine_sums: dict) -> dict[str, list[dict]]:
    """Every page (each place, each period of the year) of the cells ``table(sites, period)``
    gives, as a reader with suppression sees them (``fine_sums``: the months' sums as the
    engine hands them over)."""
    places = place_pattern([c for m in MONTHS for c in table(tree.pages["program"], m)], [], threshold,
                           fine=fine_sums)
    out = {}
    for page, sites in tree.pages.items():
        pattern = pattern_of_year([c for m in MONTHS for c in table(sites, m)], [], threshold, places)
        shown = []
        for period in PERIODS:
            for c in table(sites, period):
                hidden = pattern.get((c["code"], period, tuple(sorted(c["disaggregation"].items()))), set())
                shown.append(dict(c, **{f: None for f in hidden}, suppressed=bool(hidden)))
        out[page] = shown
    return out


def publish(tree: Tree, fine: dict[str, dict], threshold: int, code: str = CODE) -> dict[str, list[dict]]:
    """Every page of ``code`` as a reader with suppression sees it."""
    return published(tree, lambda sites, period: page_table(tree, fine, sites, period, code), threshold,
                     engine_fine(tree, fine, code))


def publish_counts(tree: Tree, fine: dict[str, dict], threshold: int, codes: tuple[str, str]) -> dict[str, list[dict]]:
    """Every page of two counts ``codes`` (``fine``: month -> (sex, age band, site) -> the two
    counts), as a reader with suppression sees it."""
    from salus.indicators.engine import MEASURES

    def table(sites: set[str], period: str) -> list[dict]:
        cells = []
        for k, code in enumerate(codes):
            one = {m: {key: (pair[k], pair[k]) for key, pair in by_cell.items()} for m, by_cell in fine.items()}
            cells += [dict(c, kind="count", denominator=None, value=c["numerator"])
                      for c in page_table(tree, one, sites, period, code)]
        return cells

    sums = {m: {(sex, age, tree.site_area[s], s): {MEASURES[code][0]: n for code, n in zip(codes, counts, strict=True)}
                for (sex, age, s), counts in fine.get(m, {}).items()} for m in MONTHS}
    return published(tree, table, threshold, sums)


def pinned_down(rows: dict[bytes, tuple[np.ndarray, list[tuple]]], shown: dict[bytes, float], truth: np.ndarray,
                solution) -> list[tuple]:
    """Where the hidden ``rows`` (key -> (row over the unknowns, where it is hidden)) that are
    not zero and shown nowhere take one value only over the reader's solutions
    (``solution(objective)``, a linear program; ``truth`` is one solution)."""
    # Solutions found so far: a hidden count on which two of them differ is not worked out.
    # A few come from random objectives; each linear program asked adds its own.
    rng = np.random.default_rng(0)
    pool = [truth, *(solution(rng.normal(size=truth.size)) for _ in range(4))]
    out = []
    for key, (row, where) in rows.items():
        if key in shown or row @ truth == 0:
            continue  # shown on some page, or a zero (shown anyway: it points at nobody)
        if max(row @ x for x in pool) - min(row @ x for x in pool) > 1e-6:
            continue
        low, high = solution(row), solution(-row)
        pool += [low, high]
        if row @ high - row @ low < 1e-6:
            out += where
    return out


def worked_out_together(tree: Tree, pages: dict[str, list[dict]], fine: dict[str, dict],
                        blocks: tuple[tuple[str, str], tuple[str, str]] = ((CODE, "numerator"), (CODE, "denominator")),
                        ) -> list[tuple]:
    """(page, period, disaggregation, field) of the hidden counts, not zero, that a reader of
    every page works out from the cells shown, no count being negative and the first count of
    ``blocks`` (code, field) being at most the second in every fine cell (``fine``: the two,
    in that order)."""
    import scipy.optimize
    import scipy.sparse

    n = len(tree.unknowns)
    truth = np.zeros(2 * n)
    for month, cells in fine.items():
        for (sex, age, site), pair in cells.items():
            for k, count in enumerate(pair):
                truth[k * n + tree.unknowns[(site, sex, age, month)]] += count
    rows: dict[bytes, tuple[np.ndarray, list[tuple]]] = {}
    shown: dict[bytes, float] = {}
    for page, cells in pages.items():
        for c in cells:
            base = row_of(tree, page, c)
            for k, (code, f) in enumerate(blocks):
                if c["code"] != code:
                    continue
                row = np.zeros(2 * n)
                row[k * n:(k + 1) * n] = base
                if c[f] is None:
                    rows.setdefault(row.tobytes(), (row, []))[1].append(
                        (page, c["period"], c["disaggregation"], f if blocks[0][0] == blocks[1][0] else code))
                else:
                    shown[row.tobytes()] = float(c[f])
    a_eq = scipy.sparse.csr_matrix(np.array([np.frombuffer(key) for key in shown]))
    b_eq = np.array(list(shown.values()))
    # positives - results <= 0 in every fine cell
    a_ub = scipy.sparse.hstack([scipy.sparse.eye(n), -scipy.sparse.eye(n)], format="csr")
    assert np.allclose(a_eq @ truth, b_eq) and (a_ub @ truth <= 0).all(), "the truth is a solution"

    # A count in no shown cell can be anything: a finite ceiling (far above every count) keeps
    # the programs bounded without fixing anything.
    ceiling = 10 * (b_eq.max(initial=0) + truth.max(initial=0) + 1)

    def solution(objective: np.ndarray) -> np.ndarray:
        result = scipy.optimize.linprog(objective, A_ub=a_ub, b_ub=np.zeros(n), A_eq=a_eq, b_eq=b_eq,
                                        bounds=(0, ceiling), method="highs")
        assert result.status == 0, result.message
        return result.x

    return pinned_down(rows, shown, truth, solution)


def test_a_positive_result_is_not_worked_out_from_the_results_it_is_one_of(monkeypatch):
    """One month, threshold 6. With positives and results audited one count at a time (as
    before they were audited together), a reader who also knows that positives are at most the
    results works out 87 hidden counts that are not zero: among them site N1's one positive
    result of 7 among transgender people under 25 in June, and its 7 men aged 25 and over, all
    7 of whose results were positive. Now none."""
    from salus.indicators import release

    fine = {"2025-06": {("F", "<25", "N2"): (2, 2), ("F", "25+", "S2"): (3, 3), ("M", "25+", "N1"): (7, 7),
                        ("T", "unknown", "S2"): (0, 7), ("T", "<25", "N1"): (1, 7)}}
    assert worked_out_together(DEEP, publish(DEEP, fine, 6), fine) == []

    monkeypatch.setattr(release, "_audited_together", lambda *args: None)
    found = worked_out_together(DEEP, publish(DEEP, fine, 6), fine)
    assert len(found) == 87, "audited apart (the test can fail)"
    for where in [("N1", "2025-06", {"age": "<25", "sex": "T"}, "numerator"),
                  ("N1", "2025-06", {"age": "25+", "sex": "M"}, "numerator"),
                  ("N1", "2025-06", {"age": "25+", "sex": "M"}, "denominator")]:
        assert where in found


def counts(tree: Tree):
    """A year of pairs: for some months, (sex, age band, site) -> (positives, results given)."""
    cell = st.tuples(st.sampled_from(SEXES), st.sampled_from(AGES), st.sampled_from(sorted(tree.site_area)))
    pair = st.integers(min_value=0, max_value=14).flatmap(
        lambda results: st.tuples(st.integers(min_value=0, max_value=results), st.just(results)))
    return st.dictionaries(st.sampled_from(MONTHS), st.dictionaries(cell, pair, min_size=1, max_size=6),
                           min_size=1, max_size=3)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fine=counts(DEEP), threshold=st.integers(min_value=3, max_value=6))
def test_no_hidden_count_of_a_pair_is_worked_out_from_all_the_pages(fine, threshold):
    """Positives and results in five sites of three levels: every page of the year together,
    with positives at most the results, no count negative, pins no hidden count but zeros; no
    small count is shown."""
    pages = publish(DEEP, fine, threshold)
    assert worked_out_together(DEEP, pages, fine) == []
    for cells in pages.values():
        for c in cells:
            for f in FIELDS:
                assert c[f] is None or not 0 < c[f] < threshold, c


def test_each_pair_is_an_indicators_numerator_and_denominator():
    """engine.PART_OF names measures the engine counts, each pair an indicator's numerator
    within its denominator (whose definition makes the one part of the other)."""
    from salus.indicators.engine import MEASURES, PART_OF

    assert PART_OF
    for part, of in PART_OF.items():
        assert (part, of) in MEASURES.values()


def test_every_indicator_of_the_pairs_counts_hides_the_same_cells():
    """HIV_TESTS shows the results HIV_POSITIVITY divides by: the results hidden must be the
    same on both, or one would show what the other hides. The positives keep their own
    cells: a site's results are not hidden because its few positives are."""
    fine = {"2025-06": {("F", "<25", "N2"): (2, 2), ("F", "25+", "S2"): (3, 3), ("M", "25+", "N1"): (7, 7),
                        ("T", "unknown", "S2"): (0, 7), ("T", "<25", "N1"): (1, 7)}}
    program_months = []
    for m in MONTHS:
        for c in page_table(DEEP, fine, DEEP.pages["program"], m):
            program_months += [c, dict(c, code="HIV_TESTS", kind="count", numerator=c["denominator"],
                                       denominator=None, value=c["denominator"])]
    places = place_pattern(program_months, [], 6, fine=engine_fine(DEEP, fine))
    tests = {key[1:]: hidden["numerator"] for key, hidden in places.items() if key[0] == "HIV_TESTS"}
    results = {key[1:]: hidden["denominator"] for key, hidden in places.items() if key[0] == CODE}
    positives = {key[1:]: hidden["numerator"] for key, hidden in places.items() if key[0] == CODE}
    assert tests == results
    assert any(tests.values())
    assert any(positives[k] and not tests[k] for k in tests), "results shown where positives are hidden"


@pytest.mark.parametrize("code", ["HCV_POSITIVITY", "REFERRAL_COMPLETION"])
def test_the_other_pairs_are_audited_together_too(monkeypatch, code):
    """HCV positives within HCV results, and referrals attended within those made, are audited
    as a pair as HIV positives are: the year above leaks the same 87 counts when they are not."""
    from salus.indicators import release

    fine = {"2025-06": {("F", "<25", "N2"): (2, 2), ("F", "25+", "S2"): (3, 3), ("M", "25+", "N1"): (7, 7),
                        ("T", "unknown", "S2"): (0, 7), ("T", "<25", "N1"): (1, 7)}}
    blocks = ((code, "numerator"), (code, "denominator"))
    assert worked_out_together(DEEP, publish(DEEP, fine, 6, code), fine, blocks) == []
    monkeypatch.setattr(release, "_audited_together", lambda *args: None)
    assert len(worked_out_together(DEEP, publish(DEEP, fine, 6, code), fine, blocks)) == 87


@pytest.mark.parametrize("code", ["HIV_TESTS", "HCV_TESTS", "NEW_CLIENTS"])
def test_no_result_or_new_client_is_worked_out_from_the_contacts(monkeypatch, code):
    """A result is given at a contact, and a new client is counted in the cell of their first
    contact: where a site has no contact of a sex and age band in a month, it gave no result
    and saw no new client, and a reader knows that from the contacts shown. One month,
    threshold 4: audited without that, 21 hidden counts that are not zero are worked out (of
    results given, or of new clients: the same numbers), among them site S2's 8 given to
    women aged 25 and over in February and its 5 to men; now none."""
    from salus.indicators import engine

    fine = {"2025-02": {("M", "25+", "S2"): (3, 7), ("X", "25+", "N2"): (1, 2), ("M", "<25", "N2"): (1, 4),
                        ("M", "unknown", "S2"): (2, 3), ("F", "25+", "S2"): (8, 11), ("T", "25+", "S3"): (2, 3)}}
    codes, blocks = (code, "CONTACTS"), ((code, "numerator"), ("CONTACTS", "numerator"))
    assert worked_out_together(DEEP, publish_counts(DEEP, fine, 4, codes), fine, blocks) == []

    monkeypatch.setattr(engine, "ONE_PER_CONTACT", ())
    found = worked_out_together(DEEP, publish_counts(DEEP, fine, 4, codes), fine, blocks)
    assert len(found) == 21, "without the contacts' zeros (the test can fail)"
    assert ("S2", "2025-02", {"age": "25+", "sex": "F"}, code) in found
    assert ("S2", "2025-02", {"sex": "M"}, code) in found



@pytest.mark.parametrize("code", ["HIV_TESTS", "HCV_TESTS", "NEW_CLIENTS"])
def test_no_count_is_worked_out_from_the_contacts_it_is_at_most(monkeypatch, code):
    """Where every contact of a cell was given a result (or was a new client's first), the
    contacts shown are the most the hidden results can be, and a reader can use that too. One
    month's sites where most cells had everyone tested, threshold 3: with the zeros alone
    (the pair's check off), 155 hidden counts that are not zero are worked out, 14 of them
    small: among them site S1's 2 results in September (one to a woman aged 25 and over among
    her 10 contacts, one to a transgender person of unknown age among 3), and the program's
    results that month. Now none."""
    from salus.indicators import release

    fine = {"2025-10": {("M", "<25", "S1"): (3, 3), ("M", "<25", "N2"): (0, 4)},
            "2025-09": {("F", "<25", "S3"): (11, 11), ("T", "<25", "S3"): (5, 5), ("F", "25+", "S1"): (1, 10),
                        ("T", "unknown", "S1"): (1, 3), ("M", "25+", "S2"): (4, 7), ("M", "unknown", "S3"): (8, 8)}}
    codes, blocks = (code, "CONTACTS"), ((code, "numerator"), ("CONTACTS", "numerator"))
    assert worked_out_together(DEEP, publish_counts(DEEP, fine, 3, codes), fine, blocks) == []

    monkeypatch.setattr(release, "_audited_together", lambda *args: None)
    found = worked_out_together(DEEP, publish_counts(DEEP, fine, 3, codes), fine, blocks)
    assert len(found) == 155, "with the contacts' zeros only (the test can fail)"
    assert ("S1", "2025-09", {}, code) in found
    assert ("program", "2025-09", {}, code) in found


# A chain of three counts, each at most the next in every fine cell, and the (code, field) of
# each: its level in the chain.
CHAIN = {("HIV_POSITIVITY", "numerator"): 0, ("HIV_POSITIVITY", "denominator"): 1, ("HIV_TESTS", "numerator"): 1,
         ("CONTACTS", "numerator"): 2}


def chain_tables(tree: Tree, fine: dict[str, dict], sites: set[str], period: str) -> list[dict]:
    """The cells of HIV_POSITIVITY, HIV_TESTS and CONTACTS of a page (``fine``: month ->
    (sex, age band, site) -> (positives, results given, contacts))."""
    def level(k: int, j: int) -> dict:
        return {m: {key: (counts[k], counts[j]) for key, counts in cells.items()} for m, cells in fine.items()}

    cells = page_table(tree, level(0, 1), sites, period)
    for code, k in (("HIV_TESTS", 1), ("CONTACTS", 2)):
        cells += [dict(c, kind="count", denominator=None, value=c["numerator"])
                  for c in page_table(tree, level(k, k), sites, period, code)]
    return cells


def publish_chain(tree: Tree, fine: dict[str, dict], threshold: int) -> dict[str, list[dict]]:
    """Every page of the three counts of :func:`chain_tables`, as a reader with suppression sees it."""
    sums = {m: {(sex, age, tree.site_area[s], s): dict(zip(("hiv_pos", "hiv_tests", "contacts"), counts, strict=True))
                for (sex, age, s), counts in fine.get(m, {}).items()} for m in MONTHS}
    return published(tree, lambda sites, period: chain_tables(tree, fine, sites, period), threshold, sums)

def worked_out_in_chain(tree: Tree, pages: dict[str, list[dict]], fine: dict[str, dict]) -> list[tuple]:
    """(page, period, disaggregation, code, field) of the hidden counts, not zero, that a
    reader of every page works out from the cells shown, knowing positives are at most the
    results and results at most the contacts in every fine cell. The unknowns are the three
    increments (positives, results less positives, contacts less results) in every fine
    cell, none negative; a cell of a count is the sum of the increments up to its level."""
    import scipy.optimize
    import scipy.sparse

    n = len(tree.unknowns)
    truth = np.zeros(3 * n)
    for month, cells in fine.items():
        for (sex, age, site), counts in cells.items():
            i = tree.unknowns[(site, sex, age, month)]
            for k, step in enumerate((counts[0], counts[1] - counts[0], counts[2] - counts[1])):
                truth[k * n + i] += step
    rows: dict[bytes, tuple[np.ndarray, list[tuple]]] = {}
    shown: dict[bytes, float] = {}
    for page, cells in pages.items():
        for c in cells:
            base = row_of(tree, page, c)
            for (code, f), level in CHAIN.items():
                if c["code"] != code:
                    continue
                row = np.concatenate([base if k <= level else np.zeros(n) for k in range(3)])
                if c[f] is None:
                    rows.setdefault(row.tobytes(), (row, []))[1].append((page, c["period"], c["disaggregation"], code, f))
                else:
                    shown[row.tobytes()] = float(c[f])
    a_eq = scipy.sparse.csr_matrix(np.array([np.frombuffer(key) for key in shown]))
    b_eq = np.array(list(shown.values()))
    assert np.allclose(a_eq @ truth, b_eq) and (truth >= 0).all(), "the truth is a solution"
    ceiling = 10 * (b_eq.max(initial=0) + truth.max(initial=0) + 1)

    def solution(objective: np.ndarray) -> np.ndarray:
        result = scipy.optimize.linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, ceiling), method="highs")
        assert result.status == 0, result.message
        return result.x

    return pinned_down(rows, shown, truth, solution)


def test_positives_results_and_contacts_are_checked_as_one_chain(monkeypatch):
    """A reader can use both bounds on the results at once: at least the positives, at most
    the contacts. Two months, threshold 3. Checked two counts at a time (positives with
    results, results with contacts, in turn until neither hides more), each pair is safe, yet
    the three together give away 228 hidden counts that are not zero (260 before the audit
    left out shown cells that are sums of shown cells, which changes the complements it
    picks): among them the
    program's 11 results to people of unknown age in August (site S1's 11 men, every one of
    whom was tested and positive). Checked as one chain, none."""
    from salus.indicators import release

    fine = {"2025-09": {("X", "unknown", "S3"): (3, 3, 8), ("F", "unknown", "S2"): (0, 12, 12),
                        ("F", "<25", "N2"): (0, 2, 7), ("M", "unknown", "N2"): (9, 9, 9), ("F", "25+", "S1"): (10, 10, 10)},
            "2025-08": {("T", "<25", "N1"): (0, 1, 8), ("T", "25+", "N1"): (6, 6, 9), ("F", "25+", "S2"): (0, 0, 0),
                        ("M", "unknown", "S1"): (11, 11, 11), ("M", "<25", "N1"): (0, 5, 5)}}
    assert worked_out_in_chain(DEEP, publish_chain(DEEP, fine, 3), fine) == []

    chain = release._audited_together

    def two_at_a_time(whole, counts, hidden, cached, zeros, audited):
        hidden, audited = list(hidden), list(audited)
        while True:
            before = [set(h) for h in hidden]
            for j in range(len(counts) - 1):
                pair = chain(whole, counts[j:j + 2], hidden[j:j + 2], cached, zeros[j:j + 2], audited[j:j + 2])
                if pair is None:
                    return None
                hidden[j:j + 2], audited[j:j + 2] = pair, [True, True]
            if hidden == before:
                return hidden

    monkeypatch.setattr(release, "_audited_together", two_at_a_time)
    found = worked_out_in_chain(DEEP, publish_chain(DEEP, fine, 3), fine)
    assert len(found) == 228, "two at a time (the test can fail)"
    assert ("program", "2025-08", {"age": "unknown"}, "HIV_TESTS", "numerator") in found

# A contact of a random year: (client number, at site A, day of 2025, HIV result, HCV result,
# referred, referral attended). Results include "not given" (a test without a result given).
RESULTS = st.sampled_from(["", "", "negative", "positive", "indeterminate", "not_given"])
year_of_contacts = st.lists(
    st.tuples(st.integers(0, 6), st.booleans(), st.integers(0, 364), RESULTS, RESULTS, st.booleans(), st.booleans()),
    min_size=1, max_size=12,
)


@pytest.mark.django_db
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=year_of_contacts)
def test_the_engines_counts_keep_the_pairs_and_the_contacts_zeros(program, record_contact, items):
    """What the audit takes a reader to know holds in the engine's own sums (its months' fine
    cells, as the audit gets them): each count of engine.PART_OF is at most the count it is
    part of, and a count of engine.ONE_PER_CONTACT (or a part of one) is zero where there was
    no contact. Clients' birth years straddle the age-band edge and clients move between
    sites, so a new client's cell and a later contact's cell differ."""
    import datetime as dt

    from django.db import transaction

    from salus.indicators import engine
    from salus.services.actions import do_update_referral

    with transaction.atomic():
        for n, at_a, day, hiv, hcv, referred, attended in items:
            contact = record_contact(program.site_a if at_a else program.site_b,
                                     f"P{chr(65 + n)}XX{2000 + n % 3}{'FMTX'[n % 4]}",
                                     when=dt.date(2025, 1, 1) + dt.timedelta(days=day), hiv_test_result=hiv,
                                     hcv_test_result=hcv, referrals=["ost"] if referred else [])
            if referred and attended:
                for referral in contact.client.referrals.filter(status="made"):
                    do_update_referral("test", referral, status="attended", outcome_on=referral.made_on)
        fine: dict = {}
        engine.monthly_trend(["CONTACTS", "NEW_CLIENTS", "HIV_POSITIVITY", "HCV_POSITIVITY", "REFERRAL_COMPLETION"],
                             "2025-01", "2025-12", disaggregate=True, fine_out=fine)
        transaction.set_rollback(True)
    seen = {m: 0 for m in ("contacts", "new", "hiv_tests", "ref_made")}
    for cells in fine.values():
        for numbers in cells.values():
            for part, of in engine.PART_OF.items():
                assert numbers.get(part, 0) <= numbers.get(of, 0), (part, of, numbers)
            for measure in (*engine.ONE_PER_CONTACT, *(p for p, of in engine.PART_OF.items() if of in engine.ONE_PER_CONTACT)):
                assert numbers.get("contacts", 0) or not numbers.get(measure, 0), (measure, numbers)
            for m in seen:
                seen[m] += numbers.get(m, 0)
    assert seen["contacts"] == len(items)
    assert seen["new"] == len({n for n, *_rest in items})
    assert seen["ref_made"] == sum(1 for item in items if item[5])
