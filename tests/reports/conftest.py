"""A small program with records in the first quarter of 2025, counted by hand in the tests.

Site A (NA1, area XL/NORTH/N1): six clients who inject drugs, each given 10 syringes once in
January, February and March 2025 (so 18 contacts, 180 syringes) and one HIV test with the
result given in March. Site B (SB1, area XL/SOUTH/S1): two clients, one contact each in
February, 5 syringes each: small numbers that analysts must not see.

Population size estimate for XL/NORTH/N1, 2025: 100 people who inject drugs (80-125).
"""

from __future__ import annotations

import datetime as dt

import pytest

SITE_A_CLIENTS = [f"A{c}BC199{n}M" for n, c in enumerate("CDEFGH")]
SITE_B_CLIENTS = ["KLMN1980F", "PQRS1981F"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Dashboards cache the monthly trend; each test's database is a new program."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def quarter(program, record_contact):
    from salus.core.models import PopulationSizeEstimate

    for uic in SITE_A_CLIENTS:
        for month in (1, 2, 3):
            record_contact(
                program.site_a, uic, when=dt.date(2025, month, 10), syringes_given=10,
                hiv_test_result="negative" if month == 3 else "",
            )
    for uic in SITE_B_CLIENTS:
        record_contact(program.site_b, uic, when=dt.date(2025, 2, 12), syringes_given=5)
    # Test set-up, not a view: the PSE has no action function yet.
    PopulationSizeEstimate.objects.create(
        area=program.area_a, population="pwid", year=2025, estimate=100, low=80, high=125,
        method="Multiplier method", source="Integrated bio-behavioural survey 2024",
    )
    return program
