"""A small program whose 2025 indicators can be counted by hand (see docs/indicators.md).

Sites: NA1 in XL/NORTH/N1 and SB1 in XL/SOUTH/S1 (the shared ``program`` fixture). Population
size estimates for 2025 exist only at the province XL/NORTH: none at the country XL, none at
the district N1, none for 2024.

Clients (UIC -> sex, birth year; census year 2025):

- A ``AAAA2001F``: PWID, age 24 (<25). NA1 10 Jan (10 syringes, 5 condoms, HIV positive, on
  ART, referral to HIV care later attended), NA1 15 Feb (10 syringes), SB1 20 Mar (5 syringes).
  Seen at two sites: belongs to SB1 (last contact). OST methadone at SB1 from 1 Feb, open,
  latest dose 50 mg maintenance (not adequate).
- B ``BBBB2000M``: PWID, age 25 (25+). NA1 5 May (20 syringes, HIV negative, referral to OST
  not attended). OST methadone at NA1 1 Jan - 31 Dec 2025 (ends ON the census date), latest
  dose 80 mg maintenance (adequate).
- C ``CCCC1990M``: not injecting. NA1 1 Jun (10 condoms, HCV positive). OST methadone at NA1
  1 Mar - 1 Jun (ended before day 182).
- D ``DDDD1980F``: PWID. NA1 1 Dec 2024 (first contact, so not new in 2025), NA1 1 Jul 2025
  (no syringes, education, HCV negative). OST buprenorphine at NA1 from 20 Dec 2025 (in
  induction on the census date).
- E ``EEEE1995T``: PWID. SB1 on the 5th of every month of 2025, one syringe and one return
  each (reached every month), 2 naloxone kits on 5 Jan. Overdoses reported at SB1: 1 Apr
  (naloxone, survived: a reversal), 2 Apr (naloxone, died), 3 Apr (no naloxone, survived).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

AS_OF = dt.date(2026, 6, 30)


@dataclass
class World:
    program: object
    clients: dict
    province: object


@pytest.fixture
def world(program, record_contact) -> World:
    from salus.core.actions import do_ensure_area_path
    from salus.core.models import PopulationSizeEstimate
    from salus.services.actions import (
        do_end_ost_episode,
        do_record_dose,
        do_record_overdose,
        do_start_ost_episode,
        do_update_referral,
    )

    a, b = program.site_a, program.site_b
    d = dt.date
    c1 = record_contact(a, "AAAA2001F", when=d(2025, 1, 10), syringes_given=10, condoms_given=5,
                        hiv_test_result="positive", art_status="on_art", referrals=["hiv_care"])
    record_contact(a, "AAAA2001F", when=d(2025, 2, 15), syringes_given=10)
    record_contact(b, "AAAA2001F", when=d(2025, 3, 20), syringes_given=5)
    c2 = record_contact(a, "BBBB2000M", when=d(2025, 5, 5), syringes_given=20, hiv_test_result="negative",
                        referrals=["ost"])
    c3 = record_contact(a, "CCCC1990M", when=d(2025, 6, 1), injects=False, condoms_given=10,
                        hcv_test_result="positive")
    c4 = record_contact(a, "DDDD1980F", when=d(2024, 12, 1), syringes_given=3)
    record_contact(a, "DDDD1980F", when=d(2025, 7, 1), education=True, hcv_test_result="negative")
    c5 = record_contact(b, "EEEE1995T", when=d(2025, 1, 5), syringes_given=1, syringes_returned=1,
                        naloxone_kits_given=2)
    for month in range(2, 13):
        record_contact(b, "EEEE1995T", when=d(2025, month, 5), syringes_given=1, syringes_returned=1)
    clients = {"A": c1.client, "B": c2.client, "C": c3.client, "D": c4.client, "E": c5.client}

    do_update_referral("test", c1.referrals.get(), status="attended", outcome_on=d(2025, 1, 20))

    ep = do_start_ost_episode("test", client=clients["A"], site=b, medication="methadone", start_date=d(2025, 2, 1))
    do_record_dose("test", ep, date=d(2025, 2, 1), dose_mg=Decimal("30"), phase="induction")
    do_record_dose("test", ep, date=d(2025, 3, 1), dose_mg=Decimal("50"), phase="maintenance")
    ep = do_start_ost_episode("test", client=clients["B"], site=a, medication="methadone", start_date=d(2025, 1, 1))
    do_record_dose("test", ep, date=d(2025, 1, 2), dose_mg=Decimal("30"), phase="induction")
    do_record_dose("test", ep, date=d(2025, 6, 1), dose_mg=Decimal("80"), phase="maintenance")
    do_end_ost_episode("test", ep, end_date=d(2025, 12, 31), end_reason="completed")
    ep = do_start_ost_episode("test", client=clients["C"], site=a, medication="methadone", start_date=d(2025, 3, 1))
    do_end_ost_episode("test", ep, end_date=d(2025, 6, 1), end_reason="voluntary")
    ep = do_start_ost_episode("test", client=clients["D"], site=a, medication="buprenorphine", start_date=d(2025, 12, 20))
    do_record_dose("test", ep, date=d(2025, 12, 20), dose_mg=Decimal("4"), phase="induction")

    for day, naloxone, outcome in ((1, True, "survived"), (2, True, "died"), (3, False, "survived")):
        do_record_overdose("test", client=clients["E"], site=b, date=d(2025, 4, day), involvement="witnessed",
                           naloxone_given=naloxone, naloxone_kits_used=1 if naloxone else 0, outcome=outcome,
                           emergency_called=False)

    province = do_ensure_area_path("test", "XL/NORTH")
    PopulationSizeEstimate.objects.create(area=province, population="pwid", year=2025, estimate=100, low=80,
                                          high=125, method="multiplier", source="test survey")
    PopulationSizeEstimate.objects.create(area=province, population="opioid_dependent", year=2025, estimate=50,
                                          method="multiplier", source="test survey")
    return World(program=program, clients=clients, province=province)


def by_cell(rows: list[dict]) -> dict:
    """{(code, frozen disaggregation): row}."""
    return {(r["code"], tuple(sorted(r["disaggregation"].items()))): r for r in rows}


def total(rows: list[dict], code: str) -> dict:
    return by_cell(rows)[(code, ())]


def add_two_sites_in_a_month(world, record_contact) -> None:
    """Contacts at two sites in one month, for the ties of the month-by-month trend: M is seen
    at NA1 then SB1 in April 2025; T at both at the same moment on 5 May 2025 (ties: last SB1,
    first NA1)."""
    site_a, site_b = world.program.site_a, world.program.site_b
    record_contact(site_a, "MMMM1999F", when=dt.date(2025, 4, 3), syringes_given=2)
    record_contact(site_b, "MMMM1999F", when=dt.date(2025, 4, 20), syringes_given=3)
    record_contact(site_b, "TTTT2002M", when=dt.date(2025, 5, 5), condoms_given=4)
    record_contact(site_a, "TTTT2002M", when=dt.date(2025, 5, 5), hiv_test_result="negative")
