import datetime as dt

import pytest

from salus.indicators.periods import PeriodError, months_between, parse_period


@pytest.mark.parametrize("text,start,end,label,days", [
    ("2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31), "2025", 365),
    ("2024", dt.date(2024, 1, 1), dt.date(2024, 12, 31), "2024", 366),
    ("2025Q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31), "2025Q1", 90),
    ("2025q4", dt.date(2025, 10, 1), dt.date(2025, 12, 31), "2025Q4", 92),
    ("2025-03", dt.date(2025, 3, 1), dt.date(2025, 3, 31), "2025-03", 31),
    ("202402", dt.date(2024, 2, 1), dt.date(2024, 2, 29), "2024-02", 29),
])
def test_it_parses_years_quarters_and_months(text, start, end, label, days):
    p = parse_period(text)
    assert (p.start, p.end, p.label, p.days, p.census_date) == (start, end, label, days, end)


def test_it_names_periods_for_dhis2_and_adx():
    assert parse_period("2025-03").dhis2 == "202503"
    assert parse_period("2025Q2").adx == "2025-04-01/P3M"
    assert parse_period("2025").adx == "2025-01-01/P1Y"


@pytest.mark.parametrize("text", ["", "25", "2025Q5", "2025-13", "2025-1", "March 2025", "2025W01"])
def test_it_refuses_anything_else(text):
    with pytest.raises(PeriodError):
        parse_period(text)


def test_it_lists_the_months_between_two_periods():
    months = months_between(parse_period("2024-11"), parse_period("2025Q1"))
    assert [m.label for m in months] == ["2024-11", "2024-12", "2025-01", "2025-02", "2025-03"]
