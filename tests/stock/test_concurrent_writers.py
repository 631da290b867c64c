"""Contacts and stock receipts at one site, written at the same time from several threads.

Every contact updates the site's level rows and every write the audit chain's head, each held
until commit; the writers must take them in one order (levels in code order, then the head at
commit) or PostgreSQL would find deadlocks and abort writes. SQLite runs one write at a time,
and the in-memory test database shares one connection between threads, so this runs on
PostgreSQL (DATABASE_URL) only.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.db.models import Sum

THREADS = 6
ROUNDS = 8


@pytest.mark.django_db(transaction=True)
def test_contacts_and_receipts_at_one_site_neither_deadlock_nor_lose_stock(program, record_contact):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database server: SQLite runs one write at a time")
    from salus.core import audit
    from salus.services.models import Contact
    from salus.stock.actions import do_record_stock_movement
    from salus.stock.models import Commodity, StockLevel

    site = program.site_a
    commodities = {code: Commodity.objects.get_or_create(code=code, defaults={"name": code, "category": "x"})[0]
                   for code in ("condom", "syringe")}
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(ROUNDS):
                if (n + i) % 3 == 0:
                    # Receipts lock a level in the middle of their write, contacts at the end.
                    for code in ("syringe", "condom") if n % 2 else ("condom", "syringe"):
                        do_record_stock_movement("test", site=site, commodity=commodities[code], kind="receipt",
                                                 quantity=5, occurred_on=dt.date(2025, 1, 1))
                else:
                    # New clients too: their registration is audited before the stock is touched.
                    record_contact(site, raw_uic=f"T{chr(65 + n)}X{chr(65 + i)}1990F",
                                   syringes_given=3, condoms_given=2)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    receipts = sum(1 for n in range(THREADS) for i in range(ROUNDS) if (n + i) % 3 == 0)
    contacts = THREADS * ROUNDS - receipts
    assert Contact.objects.filter(site=site).count() == contacts
    given = Contact.objects.filter(site=site).aggregate(s=Sum("syringes_given"), c=Sum("condoms_given"))
    levels = dict(StockLevel.objects.filter(site=site).values_list("commodity_id", "quantity"))
    assert levels["syringe"] == 5 * receipts - given["s"]
    assert levels["condom"] == 5 * receipts - given["c"]
    assert audit.verify().ok


@pytest.mark.django_db(transaction=True)
def test_the_same_new_client_posted_at_once_is_one_client_linked_once(program, record_contact):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database server: SQLite runs one write at a time")
    from salus.clients.models import Client, ClientSite
    from salus.core import audit
    from salus.services.models import Contact

    days = [dt.date(2025, 3, d) for d in (10, 4, 12, 7, 9, 5)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(days))

    def writer(day: dt.date) -> None:
        try:
            start.wait()
            # The first contact of a client nobody has seen yet, at the same site, at once:
            # one registration wins, the others find it; the site link is one upsert.
            record_contact(program.site_a, raw_uic="NEWC1991M", when=day, syringes_given=1)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(day,)) for day in days]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    (client,) = Client.objects.filter(contacts__site=program.site_a).distinct()
    assert Contact.objects.filter(client=client).count() == len(days)
    (link,) = ClientSite.objects.filter(client=client)
    assert (link.first_seen, link.last_seen) == (min(days), max(days))
    assert client.first_contact_date == min(days)
    assert audit.verify().ok
