"""Stock-out days for every level at once agree with the one-pair reference rule."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salus.stock.actions import do_record_stock_movement, stockout_days
from salus.stock.models import Commodity, StockMovement
from salus.stock.stockouts import stockout_days_by_pair

DAY0 = dt.date(2025, 1, 1)
moves = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["syringe", "condom"]), st.integers(0, 59),
              st.integers(-15, 15).filter(bool)),
    max_size=25,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=moves, window=st.tuples(st.integers(0, 59), st.integers(0, 30)))
def test_it_agrees_with_the_reference_for_every_pair(program, items, window):
    StockMovement.objects.all().delete()
    sites = {"a": program.site_a, "b": program.site_b}
    for site, code, day, qty in items:
        do_record_stock_movement("test", site=sites[site], commodity=Commodity.objects.get(code=code),
                                 kind="adjustment", quantity=qty, occurred_on=DAY0 + dt.timedelta(days=day))
    start = DAY0 + dt.timedelta(days=window[0])
    end = start + dt.timedelta(days=window[1])
    batch = stockout_days_by_pair(StockMovement.objects.all(), start, end)
    for site in sites.values():
        for code in ("syringe", "condom"):
            assert batch.get((site.id, code), 0) == stockout_days(site, code, start, end), (site.code, code)


def test_it_counts_only_the_movements_it_is_given(program):
    do_record_stock_movement("test", site=program.site_a, commodity=Commodity.objects.get(code="syringe"),
                             kind="receipt", quantity=5, occurred_on=DAY0)
    do_record_stock_movement("test", site=program.site_b, commodity=Commodity.objects.get(code="syringe"),
                             kind="adjustment", quantity=-5, occurred_on=DAY0)
    only_a = stockout_days_by_pair(StockMovement.objects.filter(site=program.site_a), DAY0, DAY0 + dt.timedelta(days=9))
    assert only_a == {(program.site_a.id, "syringe"): 0}
