"""Stock levels, stock-out days and recording receipts and adjustments."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse
from django.utils import timezone

from salus.core.models import AuditEvent
from salus.stock.actions import do_record_stock_movement
from salus.stock.models import Commodity, StockLevel

LEVELS = reverse("web-stock")
MOVE = reverse("web-stock-movement")


def receipt(site, code, qty, day):
    do_record_stock_movement("test", site=site, commodity=Commodity.objects.get(code=code), kind="receipt",
                             quantity=qty, occurred_on=day)


def test_it_lists_levels_at_the_users_sites_only(program, login):
    today = timezone.localdate()
    receipt(program.site_a, "syringe", 100, today)
    receipt(program.site_b, "condom", 50, today)
    response = login(program.worker_a).get(LEVELS)
    assert [(lv.site.code, lv.commodity_id, lv.quantity) for lv in response.context["levels"]] == [("NA1", "syringe", 100)]


def test_it_counts_stock_out_days_this_month(program, login, record_contact):
    with time_machine.travel(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC), tick=False):
        receipt(program.site_a, "syringe", 10, dt.date(2026, 3, 1))
        record_contact(program.site_a, when=dt.date(2026, 3, 4), syringes_given=10)
        response = login(program.worker_a).get(LEVELS)
    (level,) = response.context["levels"]
    # Empty at the end of 4 March and every day after, to 10 March: 7 days.
    assert level.stockout_days == 7
    assert level.quantity == 0


def test_it_flags_a_negative_level_to_reconcile(program, login, record_contact):
    record_contact(program.site_a, syringes_given=5)
    body = login(program.worker_a).get(LEVELS).content.decode()
    assert "to reconcile" in body


def test_it_records_a_receipt(program, login):
    data = {"site": "NA1", "commodity": "naloxone_kit", "kind": "receipt", "quantity": "40",
            "occurred_on": timezone.localdate().isoformat(), "note": "delivery 12"}
    response = login(program.coordinator_a).post(MOVE, data)
    assert response.status_code == 302
    assert StockLevel.objects.get(site=program.site_a, commodity_id="naloxone_kit").quantity == 40
    assert AuditEvent.objects.filter(action="stock.receipt").count() == 1


def test_it_records_a_negative_adjustment(program, login):
    receipt(program.site_a, "condom", 20, timezone.localdate())
    data = {"site": "NA1", "commodity": "condom", "kind": "adjustment", "quantity": "-3",
            "occurred_on": timezone.localdate().isoformat()}
    assert login(program.coordinator_a).post(MOVE, data).status_code == 302
    assert StockLevel.objects.get(site=program.site_a, commodity_id="condom").quantity == 17


def test_it_refuses_a_negative_receipt_inline(program, login):
    data = {"site": "NA1", "commodity": "condom", "kind": "receipt", "quantity": "-3",
            "occurred_on": timezone.localdate().isoformat()}
    response = login(program.coordinator_a).post(MOVE, data)
    assert response.status_code == 200
    assert "A receipt must be a positive quantity." in response.content.decode()
    assert not StockLevel.objects.exists()


def test_it_refuses_recording_at_another_site(program, login):
    data = {"site": "SB1", "commodity": "condom", "kind": "receipt", "quantity": "3",
            "occurred_on": timezone.localdate().isoformat()}
    assert login(program.coordinator_a).post(MOVE, data).status_code == 403
    assert not StockLevel.objects.exists()


def test_it_refuses_movements_to_workers(program, login):
    assert login(program.worker_a).get(MOVE).status_code == 403


def test_it_refuses_the_analyst(program, login):
    assert login(program.analyst).get(LEVELS).status_code == 403
