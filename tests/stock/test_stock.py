"""Stock: receipts, adjustments, levels and stock-out days."""

import datetime as dt

import pytest

from salus.stock.actions import do_record_stock_movement, stockout_days
from salus.stock.models import Commodity, StockLevel


def _move(site, kind, qty, day, code="syringe"):
    return do_record_stock_movement(
        "test", site=site, commodity=Commodity.objects.get(code=code), kind=kind, quantity=qty, occurred_on=day
    )


def test_it_keeps_the_level_equal_to_the_sum_of_movements(program, record_contact):
    _move(program.site_a, "receipt", 100, dt.date(2025, 1, 1))
    record_contact(program.site_a, when=dt.date(2025, 1, 2), syringes_given=30)
    _move(program.site_a, "adjustment", -5, dt.date(2025, 1, 3))
    assert StockLevel.objects.get(site=program.site_a, commodity_id="syringe").quantity == 65


def test_a_contact_creates_the_levels_a_site_never_held_among_its_last_statements(program, record_contact):
    from django.db import connection

    seen = []
    original = connection.salus_update_last

    def spy(order_key, sql, params):
        seen.append((order_key[2], sql.split()[0]))
        return original(order_key, sql, params)

    _move(program.site_a, "receipt", 100, dt.date(2025, 1, 1))  # syringes held, condoms never
    connection.salus_update_last = spy
    try:
        record_contact(program.site_a, when=dt.date(2025, 1, 2), syringes_given=30, condoms_given=4,
                       other_equipment_given=1)
    finally:
        del connection.salus_update_last
    # One order for every write (code order), the new levels created there (INSERT ... ON
    # CONFLICT), none in the middle of the write.
    assert seen == [("condom", "INSERT"), ("injecting_kit", "INSERT"), ("syringe", "UPDATE")]
    levels = dict(StockLevel.objects.filter(site=program.site_a).values_list("commodity_id", "quantity"))
    assert levels == {"syringe": 70, "condom": -4, "injecting_kit": -1}
    assert StockLevel.objects.get(site=program.site_a, commodity_id="condom").updated_at is not None
    # Both forms add to what is there.
    record_contact(program.site_a, when=dt.date(2025, 1, 3), syringes_given=5, condoms_given=1)
    levels = dict(StockLevel.objects.filter(site=program.site_a).values_list("commodity_id", "quantity"))
    assert levels == {"syringe": 65, "condom": -5, "injecting_kit": -1}


def test_it_refuses_a_receipt_of_nothing(program):
    with pytest.raises(ValueError):
        _move(program.site_a, "receipt", 0, dt.date(2025, 1, 1))


def test_it_counts_days_ending_with_no_stock(program, record_contact):
    _move(program.site_a, "receipt", 10, dt.date(2025, 1, 1))
    record_contact(program.site_a, when=dt.date(2025, 1, 5), syringes_given=10)  # zero from the 5th
    _move(program.site_a, "receipt", 10, dt.date(2025, 1, 8))  # back in stock on the 8th
    assert stockout_days(program.site_a, "syringe", dt.date(2025, 1, 1), dt.date(2025, 1, 10)) == 3


def test_it_counts_no_stockout_for_a_commodity_never_stocked(program):
    assert stockout_days(program.site_a, "lubricant", dt.date(2025, 1, 1), dt.date(2025, 1, 31)) == 0
