"""Properties over random small programs: cells add up; coverage never falls with one more syringe."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salus.indicators.engine import compute_indicators
from salus.indicators.periods import parse_period

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 6, 30)

# A contact: (client number, site A or B, day of 2025, syringes, condoms, injects).
contacts = st.lists(
    st.tuples(st.integers(0, 7), st.booleans(), st.integers(0, 364), st.integers(0, 3), st.integers(0, 2),
              st.booleans()),
    min_size=1, max_size=14,
)
SEX = "FMTX"


def uic(n: int) -> str:
    # Birth years straddle the age-band edge (census year 2025: 2001 is 24, 2000 is 25).
    return f"C{chr(65 + n)}XX{2000 + n % 3}{SEX[n % 4]}"


def record_all(program, record_contact, items):
    for n, at_a, day, syr, con, injects in items:
        record_contact(program.site_a if at_a else program.site_b, uic(n),
                       when=dt.date(2025, 1, 1) + dt.timedelta(days=day), syringes_given=syr,
                       condoms_given=con, injects=injects)


def check_additive(rows):
    by_code = defaultdict(list)
    for r in rows:
        by_code[r["code"]].append(r)
    for code, cells in by_code.items():
        if code == "STOCKOUT_DAYS":
            continue
        total = cells[0]
        assert total["disaggregation"] == {}
        for field in ("numerator", "denominator"):
            if total[field] is None:
                continue
            for dims in (("sex",), ("age",), ("sex", "age"), ("area",), ("area", "site")):
                part = [c[field] for c in cells if tuple(sorted(c["disaggregation"])) == tuple(sorted(dims))]
                assert sum(part) == total[field], (code, field, dims)
            # Each area is the sum of its sites.
            for area_cell in (c for c in cells if set(c["disaggregation"]) == {"area"}):
                area = area_cell["disaggregation"]["area"]
                sites = [c[field] for c in cells if set(c["disaggregation"]) == {"area", "site"}
                         and c["disaggregation"]["area"] == area]
                assert sum(sites) == area_cell[field], (code, field, area)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=contacts)
def test_it_puts_every_client_in_exactly_one_cell(program, record_contact, items):
    with transaction.atomic():
        record_all(program, record_contact, items)
        rows = compute_indicators("2025", as_of=AS_OF)
        check_additive(rows)
        reached = next(r for r in rows if r["code"] == "CLIENTS_REACHED" and not r["disaggregation"])
        assert reached["value"] == len({n for n, *_rest in items})
        transaction.set_rollback(True)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=contacts, extra=st.tuples(st.integers(0, 9), st.booleans(), st.integers(0, 364)))
def test_coverage_never_falls_when_a_syringe_is_added(program, record_contact, items, extra):
    from salus.core.models import Area, PopulationSizeEstimate

    codes = ["NSP_COVERAGE", "NSP_SYRINGES_PER_PWID", "SYRINGES_DISTRIBUTED"]
    with transaction.atomic():
        PopulationSizeEstimate.objects.create(area=Area.objects.get(path="XL"), population="pwid", year=2025,
                                              estimate=50, low=40, high=60)
        record_all(program, record_contact, items)
        before = {r["code"]: r for r in compute_indicators("2025", as_of=AS_OF, codes=codes, disaggregate=False)}
        n, at_a, day = extra
        record_contact(program.site_a if at_a else program.site_b, uic(n),
                       when=dt.date(2025, 1, 1) + dt.timedelta(days=day), syringes_given=1, injects=True)
        after = {r["code"]: r for r in compute_indicators("2025", as_of=AS_OF, codes=codes, disaggregate=False)}
        for code in codes:
            assert after[code]["value"] >= before[code]["value"], code
        assert after["SYRINGES_DISTRIBUTED"]["value"] == before["SYRINGES_DISTRIBUTED"]["value"] + 1
        transaction.set_rollback(True)


def test_stockout_days_match_the_stock_reference(program):
    from salus.stock.actions import do_record_stock_movement, stockout_days
    from salus.stock.models import Commodity

    syringe = Commodity.objects.get(code="syringe")
    d = dt.date
    # Received 10 on 5 Jan, 10 gone on 10 Jan, 5 received on 20 Jan: out from 10 to 19 Jan.
    do_record_stock_movement("test", site=program.site_a, commodity=syringe, kind="receipt", quantity=10,
                             occurred_on=d(2025, 1, 5))
    do_record_stock_movement("test", site=program.site_a, commodity=syringe, kind="adjustment", quantity=-10,
                             occurred_on=d(2025, 1, 10))
    do_record_stock_movement("test", site=program.site_a, commodity=syringe, kind="receipt", quantity=5,
                             occurred_on=d(2025, 1, 20))
    # SB1 ran out in December 2024 and stayed out.
    do_record_stock_movement("test", site=program.site_b, commodity=syringe, kind="adjustment", quantity=-1,
                             occurred_on=d(2024, 12, 1))
    for period, expected_a, expected_b in (("2025-01", 10, 31), ("2025Q1", 10, 90), ("2024-12", 0, 31)):
        rows = compute_indicators(period, as_of=AS_OF, codes=["STOCKOUT_DAYS"])
        cells = {tuple(sorted(r["disaggregation"].items())): r["value"] for r in rows}
        # No cell for a site that had no movement of the commodity yet (as the reference: 0).
        a = cells.get((("area", "XL/NORTH/N1"), ("commodity", "syringe"), ("site", "NA1")), 0)
        b = cells[(("area", "XL/SOUTH/S1"), ("commodity", "syringe"), ("site", "SB1"))]
        assert (a, b) == (expected_a, expected_b), period
        p = parse_period(period)
        assert a == stockout_days(program.site_a, "syringe", p.start, p.end)
        assert b == stockout_days(program.site_b, "syringe", p.start, p.end)
        assert cells[()] == a + b
