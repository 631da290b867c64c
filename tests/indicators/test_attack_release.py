"""scripts/attack_release.py: the attacker a release manager runs over a program's real pages.

The program is the hand-counted one of conftest.py (two sites, NA1 in XL/NORTH/N1 and SB1 in
XL/SOUTH/S1), read for January to March 2025 (the months and the first quarter).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "attack_release.py"


def attacker():
    spec = importlib.util.spec_from_file_location("attack_release", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_reads_every_page_of_a_program_and_finds_nothing_to_work_out_there(world):
    """The suppressed pages themselves. This small program gives nothing away even without
    the rules across places (checked once by hand), so this is a run of the script over real
    pages; that it can find a cell is the next test's."""
    found = attacker().worked_out(2025, last_month=3)
    assert found, "the small program has hidden cells"
    assert {key: where for key, (_hidden, where) in found.items() if where} == {}


def test_it_works_out_a_site_total_that_every_page_hides_but_the_others_give_away(world):
    """Unsuppressed pages with SB1's contacts of March hidden wherever they are shown (its own
    page, its district's and province's, the site and area cells of the pages above): the
    program's total minus NA1's gives them."""
    from salus.indicators.engine import compute_indicators

    def read(period, area, site):
        cells = compute_indicators(period, area=area, site=site, disaggregate=True)
        for c in cells:
            dis = c["disaggregation"]
            sb1_alone = (not dis and (site == "SB1" or (area or "").startswith("XL/SOUTH"))) or (
                set(dis) <= {"area", "site"} and (dis.get("site") == "SB1" or dis.get("area", "").startswith("XL/SOUTH")))
            if c["code"] == "CONTACTS" and period == "2025-03" and sb1_alone and dis.keys() <= {"area", "site"}:
                c["numerator"] = c["value"] = None
                c["suppressed"] = True
        return cells

    contacts = [c["numerator"] for c in compute_indicators("2025-03", site="SB1")
                if c["code"] == "CONTACTS" and not c["disaggregation"]]
    for bounds in (True, False):
        hidden, where = attacker().worked_out(2025, last_month=3, read=read, bounds=bounds)[("CONTACTS", "numerator")]
        assert hidden == 1
        assert [(period, dis.get("site", "SB1"), value) for (_place, period, dis), value in where] == [
            ("2025-03", "SB1", contacts[0])]
        assert contacts[0] > 0


def test_it_knows_that_no_count_is_negative():
    """x + y = 0 and x + y + z = 3: by the sums alone no unknown is fixed (the span holds x + y
    and z but neither x nor y); with no count negative, x and y are 0, and the solution it
    gives has z = 3."""
    import numpy as np
    import scipy.sparse

    zero, solution = attacker().zeros(scipy.sparse.csr_matrix(np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])),
                                      np.array([0.0, 3.0]))
    assert zero.tolist() == [True, True, False]
    assert abs(solution[2] - 3.0) < 1e-9
    zero, _solution = attacker().zeros(scipy.sparse.csr_matrix(np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])),
                                       np.array([2.0, 3.0]))
    assert zero.tolist() == [False, False, False]


def test_it_finds_what_only_whole_numbers_fix():
    """Unknowns x1, x2, x3, a, b, c, d, w (in that order), with x1 + x2 + a = x2 + x3 + b =
    x1 + x3 + c = 1, a + b + c + d = 2 and x1 + x2 + x3 + w = 2 (the true counts: x1 = 1,
    b = 1, d = 1, w = 1, the others 0). In real numbers w can be anything from 0.5 to 1.5
    and d from 0 to 2 (x1 = x2 = x3 = 0.5 gives d = 2), so neither is fixed by the sums or
    by no count being negative; in whole numbers both are 1. x1 is 0 or 1 (x2 = 1 instead)."""
    import numpy as np
    import scipy.optimize
    import scipy.sparse

    a = np.array([
        [1, 1, 0, 1, 0, 0, 0, 0],
        [0, 1, 1, 0, 1, 0, 0, 0],
        [1, 0, 1, 0, 0, 1, 0, 0],
        [0, 0, 0, 1, 1, 1, 1, 0],
        [1, 1, 1, 0, 0, 0, 0, 1],
    ], dtype=float)
    b = np.array([1.0, 1.0, 1.0, 2.0, 2.0])
    w, d, x1 = np.eye(8)[7], np.eye(8)[6], np.eye(8)[0]
    for target, low, high in ((w, 0.5, 1.5), (d, 0.0, 2.0)):
        least = scipy.optimize.linprog(target, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        most = scipy.optimize.linprog(-target, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        assert abs(least.fun - low) < 1e-9 and abs(-most.fun - high) < 1e-9
    assert attacker().whole_number_values(scipy.sparse.csr_matrix(a), b, [w, d, x1]) == [1.0, 1.0, None]


def test_it_uses_that_positives_are_at_most_the_tests():
    """Three places A, B, C; 3, 7 and 6 tests, every one positive. The tests hide A (small)
    and B (its complement); the positives hide A and C. Each count alone gives nothing away,
    but together: C's positives are at most its 6 tests, so A's are at least 16 - 7 - 6 = 3;
    B's tests are at least its 7 positives, so A's tests are at most 16 - 6 - 7 = 3; and A's
    positives are at most A's tests. Every hidden cell is fixed."""
    tests = [((0,), None, "tests A"), ((1,), None, "tests B"), ((2,), 6, "tests C"), ((0, 1, 2), 16, "tests")]
    positives = [((0,), None, "pos A"), ((1,), 7, "pos B"), ((2,), None, "pos C"), ((0, 1, 2), 16, "pos")]
    alone = [attacker()._attack(3, [(cells, [0])], True, False)[0] for cells in (tests, positives)]
    assert alone == [(2, [], []), (2, [], [])]
    together = attacker()._attack(3, [(tests, [0, 1]), (positives, [0])], True, False)
    assert [sorted(found) for _hidden, found, _whole in together] == [
        [("tests A", 3.0), ("tests B", 7.0)], [("pos A", 3.0), ("pos C", 6.0)]]


def test_it_uses_both_bounds_on_the_results_at_once():
    """Two places A and B. A's 5 contacts were all tested and all positive; B had 20
    contacts. Shown: A's positives (5), the contacts, the tests' total (9). Positives with
    tests leave A's tests anywhere from 5 to 9; tests with contacts, from 0 to 5. A reader
    who uses both at once (positives at most tests at most contacts) pins A's tests at 5,
    and B's at 4."""
    positives = [((0,), 5, "pos A"), ((1,), None, "pos B"), ((0, 1), None, "pos")]
    tests = [((0,), None, "tests A"), ((1,), None, "tests B"), ((0, 1), 9, "tests")]
    contacts = [((0,), 5, "contacts A"), ((1,), 20, "contacts B"), ((0, 1), 25, "contacts")]
    with_positives = attacker()._attack(2, [(tests, [0, 1]), (positives, [0])], True, False)
    with_contacts = attacker()._attack(2, [(tests, [0]), (contacts, [0, 1])], True, False)
    assert [found for _hidden, found, _whole in with_positives + with_contacts] == [[], [], [], []]
    chain = attacker()._attack(2, [(positives, [0]), (tests, [0, 1]), (contacts, [0, 1, 2])], True, False)
    assert [sorted(found) for _hidden, found, _whole in chain] == [[], [("tests A", 5.0), ("tests B", 4.0)], []]
