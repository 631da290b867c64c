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
