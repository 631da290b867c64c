"""Every indicator on the hand-counted program of conftest.py (figures worked out there)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from tests.indicators.conftest import AS_OF, add_two_sites_in_a_month, by_cell, total

from salus.indicators.engine import ScopeError, compute_indicators, monthly_trend

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(world):
    return compute_indicators("2025", as_of=AS_OF)


def test_it_counts_clients_contacts_and_commodities(rows):
    expected = {
        "CLIENTS_REACHED": 5, "NEW_CLIENTS": 4, "CONTACTS": 18, "SYRINGES_DISTRIBUTED": 57,
        "CONDOMS_DISTRIBUTED": 15, "NALOXONE_KITS_DISTRIBUTED": 2, "OVERDOSE_REVERSALS": 1,
        "HIV_TESTS": 2, "HCV_TESTS": 2,
    }
    for code, value in expected.items():
        row = total(rows, code)
        assert (code, row["value"], row["numerator"]) == (code, value, value)
        assert row["denominator"] is None


def test_it_computes_programme_level_proportions(rows):
    expected = {
        "NSP_COVERAGE": (3, 4), "NSP_REGULAR": (1, 3), "HTS_PWID": (2, 4), "PREVENTION_PACKAGE": (1, 4),
        "ART_PWID": (1, 1), "HIV_POSITIVITY": (1, 2), "HCV_POSITIVITY": (1, 2),
        "REFERRAL_COMPLETION": (1, 2), "SYRINGE_RETURN_RATE": (12, 57), "OST_MIN_DOSE": (1, 2),
        "OST_RETENTION_6M": (3, 4), "NSP_SYRINGES_PER_PWID": (57, 3),
    }
    for code, (num, den) in expected.items():
        row = total(rows, code)
        assert (code, row["numerator"], row["denominator"]) == (code, num, den)
        assert row["programme_value"] == pytest.approx(num / den)


def test_it_gives_no_population_value_without_a_pse_at_the_area(rows):
    # The whole program is the country XL, which holds no PSE (only its province XL/NORTH
    # does, and estimates below are not added up): null with the reason.
    row = total(rows, "NSP_COVERAGE")
    assert row["value"] is None and row["level"] is None
    assert "No 2025 estimate for pwid at XL" in row["note"] and "not added up" in row["note"]
    assert row["programme_value"] == pytest.approx(0.75)


def test_it_counts_ost_on_the_census_date_including_an_episode_ending_that_day(rows):
    # A (open), B (ends 31 Dec = census date), D (started 20 Dec); C ended in June.
    row = total(rows, "OST_COVERAGE")
    assert row["numerator"] == 3
    assert row["programme_value"] is None and row["denominator"] is None
    day_before = compute_indicators("2025", as_of=AS_OF, codes=["OST_COVERAGE"], disaggregate=False)
    assert day_before[0]["numerator"] == 3
    # On 30 June C's episode (ended 1 June) no longer counts; D has not started.
    june = compute_indicators("2025-06", as_of=AS_OF, codes=["OST_COVERAGE"], disaggregate=False)
    assert june[0]["numerator"] == 2


def test_it_closes_the_retention_cohort_on_the_as_of_date(world):
    # D's day 182 is 20 June 2026: outside the cohort on 1 June 2026.
    row = compute_indicators("2025", as_of=dt.date(2026, 6, 1), codes=["OST_RETENTION_6M"], disaggregate=False)[0]
    assert (row["numerator"], row["denominator"]) == (2, 3)


def test_it_puts_the_age_band_edge_on_the_right_side(rows):
    cells = by_cell(rows)
    assert cells[("CLIENTS_REACHED", (("age", "<25"),))]["value"] == 1  # A, born 2001: 24
    assert cells[("CLIENTS_REACHED", (("age", "25+"),))]["value"] == 4  # B, born 2000: 25
    assert cells[("CLIENTS_REACHED", (("age", "unknown"),))]["value"] == 0


def test_it_counts_a_client_seen_at_two_sites_once_at_the_last_site(rows):
    cells = by_cell(rows)
    na1 = cells[("CLIENTS_REACHED", (("area", "XL/NORTH/N1"), ("site", "NA1")))]["value"]
    sb1 = cells[("CLIENTS_REACHED", (("area", "XL/SOUTH/S1"), ("site", "SB1")))]["value"]
    assert (na1, sb1) == (3, 2)  # A belongs to SB1 (last contact), E to SB1
    new_na1 = cells[("NEW_CLIENTS", (("area", "XL/NORTH/N1"), ("site", "NA1")))]["value"]
    assert new_na1 == 3  # A, B and C were first seen at NA1


def test_it_splits_by_sex(rows):
    cells = by_cell(rows)
    got = {s: cells[("CLIENTS_REACHED", (("sex", s),))]["value"] for s in "FMTX"}
    assert got == {"F": 2, "M": 2, "T": 1, "X": 0}


def test_it_computes_population_level_values_at_the_pse_area(world):
    rows = compute_indicators("2025", area="XL/NORTH", as_of=AS_OF)
    cov = total(rows, "NSP_COVERAGE")
    # At NA1: A and B got syringes (PWID); PSE 100 (80-125).
    assert cov["numerator"] == 2
    assert cov["value"] == pytest.approx(0.02)
    assert cov["value_low"] == pytest.approx(2 / 125) and cov["value_high"] == pytest.approx(2 / 80)
    assert cov["population_denominator"] == 100
    assert cov["level"] == "low"
    per = total(rows, "NSP_SYRINGES_PER_PWID")
    assert per["numerator"] == 40 and per["value"] == pytest.approx(0.4)
    ost = total(rows, "OST_COVERAGE")
    assert ost["numerator"] == 2 and ost["value"] == pytest.approx(2 / 50)  # B and D at NA1
    assert ost["value_low"] is None  # this PSE has no range
    cell = by_cell(rows)[("NSP_COVERAGE", (("sex", "F"),))]
    # Women at NA1: A (syringes) and D (none).
    assert cell["value"] is None and cell["programme_value"] == pytest.approx(0.5)


def test_it_never_computes_population_values_below_the_pse_level(world):
    row = total(compute_indicators("2025", area="XL/NORTH/N1", as_of=AS_OF), "NSP_COVERAGE")
    assert row["value"] is None and row["numerator"] == 2
    assert "XL/NORTH" in row["note"] and "below" in row["note"]


def test_it_gives_no_population_value_for_a_year_without_pse(world):
    row = total(compute_indicators("2024", area="XL/NORTH", as_of=AS_OF), "NSP_COVERAGE")
    assert row["value"] is None and "No 2024" in row["note"]


def test_it_annualises_rates_for_short_periods(world):
    row = total(compute_indicators("2025Q1", area="XL/NORTH", as_of=AS_OF), "NSP_SYRINGES_PER_PWID")
    # NA1 in Q1: A's 20 syringes; Q1 2025 has 90 days.
    assert row["numerator"] == 20
    assert row["value"] == pytest.approx(20 * 365 / 90 / 100)
    assert "365/90" in row["note"]


def test_it_limits_a_site_scope_to_that_site(world):
    rows = compute_indicators("2025", site="SB1", as_of=AS_OF)
    assert total(rows, "CLIENTS_REACHED")["value"] == 2
    assert total(rows, "SYRINGES_DISTRIBUTED")["value"] == 17
    assert total(rows, "NSP_COVERAGE")["value"] is None
    assert total(rows, "OST_COVERAGE")["numerator"] == 1


def test_it_uses_the_program_defined_package(world, tmp_path, monkeypatch):
    from salus.core.config import reset_cache

    cfg = tmp_path / "program.toml"
    cfg.write_text('defined_package = ["syringes"]\n')
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(cfg))
    reset_cache()
    row = compute_indicators("2025", as_of=AS_OF, codes=["PREVENTION_PACKAGE"], disaggregate=False)[0]
    assert row["numerator"] == 3  # A, B, E got syringes


def test_it_applies_program_coverage_bands(world, tmp_path, monkeypatch):
    from salus.core.config import reset_cache

    cfg = tmp_path / "program.toml"
    cfg.write_text("[coverage_bands]\nNSP_COVERAGE = [0.01, 0.02]\n")
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(cfg))
    reset_cache()
    row = compute_indicators("2025", area="XL/NORTH", as_of=AS_OF, codes=["NSP_COVERAGE"], disaggregate=False)[0]
    assert row["level"] == "medium"  # 0.02 is the upper bound of medium
    assert "from medium to high" in row["note"]  # 0.016 at the high PSE bound, 0.025 at the low


def test_it_rejects_unknown_scopes_and_codes(world):
    with pytest.raises(ScopeError):
        compute_indicators("2025", area="NOWHERE")
    with pytest.raises(ScopeError):
        compute_indicators("2025", site="NOPE")
    with pytest.raises(KeyError):
        compute_indicators("2025", codes=["NOT_A_CODE"])


def test_it_returns_the_documented_keys(rows):
    keys = {"code", "period", "area", "site", "disaggregation", "value", "programme_value", "numerator",
            "denominator", "value_low", "value_high", "level", "note"}
    for row in rows:
        assert keys <= set(row)
        assert row["period"] == "2025"


def test_it_draws_a_monthly_trend(world):
    trend = monthly_trend(["CLIENTS_REACHED", "SYRINGES_DISTRIBUTED"], "2025-01", "2025-03")
    got = {(r["period"], r["code"]): r["value"] for r in trend}
    # January: A (NA1) and E; February: A and E; March: A (SB1) and E.
    assert got[("2025-01", "CLIENTS_REACHED")] == 2
    assert got[("2025-01", "SYRINGES_DISTRIBUTED")] == 11
    assert got[("2025-03", "SYRINGES_DISTRIBUTED")] == 6
    assert [r["period"] for r in trend if r["code"] == "CLIENTS_REACHED"] == ["2025-01", "2025-02", "2025-03"]


class _StepRunner:
    """A runner stand-in for engine._run_steps: it can lend one second runner."""

    def __init__(self, name="main", lends=True):
        self.name, self.lends, self.closed = name, lends, False

    def fork(self):
        return _StepRunner("side", lends=False) if self.lends else None

    def close(self):
        self.closed = True


def test_it_runs_a_step_only_after_the_steps_it_needs():
    import threading
    import time

    from salus.indicators.engine import _run_steps

    log, lock = [], threading.Lock()

    def step(name, seconds):
        def run(r):
            with lock:
                log.append(("start", name, r.name))
            time.sleep(seconds)
            with lock:
                log.append(("end", name, r.name))
        return run

    slow, quick, last, other = step("slow", 0.2), step("quick", 0.01), step("last", 0), step("other", 0.01)
    _run_steps(_StepRunner(), [(slow, ()), (quick, ()), (last, (slow, quick)), (other, ())])
    events = [(kind, name) for kind, name, _r in log]
    assert events.index(("start", "last")) > max(events.index(("end", "slow")), events.index(("end", "quick")))
    # Two runners were used, and "other" did not wait for "slow".
    assert {r for _k, _n, r in log} == {"main", "side"}
    assert events.index(("end", "other")) < events.index(("end", "slow"))

    # One runner: the order given.
    log.clear()
    _run_steps(_StepRunner(lends=False), [(slow, ()), (quick, ()), (last, (slow, quick)), (other, ())])
    assert [name for kind, name, _r in log if kind == "start"] == ["slow", "quick", "last", "other"]


def test_it_raises_the_failure_of_a_step_on_either_thread():
    from salus.indicators.engine import _run_steps

    ran = []

    def broken(r):
        raise ValueError("broken step")

    def after(r):
        ran.append("after")

    for runner in (_StepRunner(), _StepRunner(lends=False)):
        ran.clear()
        with pytest.raises(ValueError, match="broken step"):
            _run_steps(runner, [(broken, ()), (after, (broken,))])
        assert ran == []  # a step whose need failed never runs


# Every code the trend sums in one pass (engine._TREND_MEASURES).
ONE_PASS_CODES = ["CLIENTS_REACHED", "NEW_CLIENTS", "CONTACTS", "SYRINGES_DISTRIBUTED", "SYRINGE_RETURN_RATE",
                  "CONDOMS_DISTRIBUTED", "NALOXONE_KITS_DISTRIBUTED", "HIV_TESTS", "HCV_TESTS", "OST_COVERAGE"]


def _month_by_month(codes, first, last, today, disaggregate=False, **scope):
    from salus.indicators.periods import months_between, parse_period

    rows = []
    for month in months_between(parse_period(first), parse_period(last)):
        if month.start > today:
            break
        rows += compute_indicators(month, codes=codes, disaggregate=disaggregate, as_of=today, **scope)
    return rows


@pytest.mark.parametrize("scope", [{}, {"area": "XL/NORTH"}, {"site": "SB1"}])
# After the last month, and in the middle of June 2025 (a census date before the month's end,
# and no month after it).
@pytest.mark.parametrize("today", [dt.date(2026, 6, 30), dt.date(2025, 6, 17)])
@pytest.mark.parametrize("disaggregate", [False, True])
def test_the_one_pass_trend_gives_each_months_own_figures(world, record_contact, monkeypatch, scope, today,
                                                          disaggregate):
    from salus.indicators import engine

    add_two_sites_in_a_month(world, record_contact)
    monkeypatch.setattr(engine, "today", lambda: today)
    with monkeypatch.context() as m:
        # The trend must not fall back on computing month by month.
        m.setattr(engine, "compute_indicators", lambda *a, **k: pytest.fail("computed month by month"))
        trend = monthly_trend(ONE_PASS_CODES, "2024-11", "2026-01", disaggregate=disaggregate, **scope)
    assert trend == _month_by_month(ONE_PASS_CODES, "2024-11", "2026-01", today, disaggregate, **scope)
    # Not a comparison of zeros: the fixture's months have clients, new ones, and people on OST.
    numerators = Counter()
    for row in trend:
        numerators[row["code"]] += row["numerator"]
    assert numerators["CLIENTS_REACHED"] > 0 and numerators["NEW_CLIENTS"] > 0
    assert numerators["OST_COVERAGE"] > 0


def test_a_trend_of_other_codes_is_computed_month_by_month(world, monkeypatch):
    from salus.indicators import engine

    monkeypatch.setattr(engine, "today", lambda: dt.date(2026, 6, 30))
    codes = ["NSP_COVERAGE", "CLIENTS_REACHED"]
    assert monthly_trend(codes, "2025-01", "2025-04") == _month_by_month(codes, "2025-01", "2025-04",
                                                                        dt.date(2026, 6, 30))


def test_two_records_of_one_person_merged_count_once_and_keep_the_earlier_first_contact(program, record_contact):
    """A person registered twice (a typo in the code) and then merged is one client: reached
    once, at the site of their last contact, and not new in 2025 when the merged-away record
    saw them in 2024 (the kept record takes the earlier first contact)."""
    from salus.clients.actions import do_merge_clients

    old = record_contact(program.site_a, "MAJO1985M", when=dt.date(2024, 11, 5), syringes_given=5)
    record_contact(program.site_a, "MAJO1985M", when=dt.date(2025, 2, 1), syringes_given=3)
    typo = record_contact(program.site_b, "MAJA1985M", when=dt.date(2025, 3, 1), syringes_given=4)
    before = compute_indicators("2025", as_of=AS_OF, codes=["CLIENTS_REACHED", "NEW_CLIENTS"])
    assert (total(before, "CLIENTS_REACHED")["value"], total(before, "NEW_CLIENTS")["value"]) == (2, 1)

    do_merge_clients("test", keep=typo.client, merge=old.client)
    after = compute_indicators("2025", as_of=AS_OF, codes=["CLIENTS_REACHED", "NEW_CLIENTS", "SYRINGES_DISTRIBUTED"])
    assert total(after, "CLIENTS_REACHED")["value"] == 1
    assert total(after, "NEW_CLIENTS")["value"] == 0
    assert total(after, "SYRINGES_DISTRIBUTED")["value"] == 7
    # The one client belongs to the site of their last contact in 2025 (site B, 1 March).
    site_cells = {r["disaggregation"]["site"]: r["value"] for r in after
                  if r["code"] == "CLIENTS_REACHED" and "site" in r["disaggregation"]}
    assert site_cells.get(program.site_b.code) == 1 and not site_cells.get(program.site_a.code)
