"""Reading a report's period and place from the query string."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import QueryDict

from salus.core.access import NotVisible
from salus.indicators.periods import parse_period
from salus.reports.dashboard import trend_window
from salus.reports.scope import ScopeError, default_period, resolve_scope


@pytest.mark.parametrize(
    ("today", "expected"),
    [(dt.date(2025, 8, 1), "2025Q2"), (dt.date(2025, 1, 15), "2024Q4"), (dt.date(2025, 4, 1), "2025Q1")],
)
def test_it_defaults_to_the_last_complete_quarter(today, expected):
    assert default_period(today) == expected


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [("2025Q1", "2024-04", "2025-03"), ("2025", "2025-01", "2025-12"), ("2025-02", "2024-03", "2025-02")],
)
def test_it_ends_the_trend_with_the_period(period, first, last):
    assert trend_window(parse_period(period)) == (first, last)


def test_it_reads_a_period_and_an_area(program):
    scope = resolve_scope(program.manager, QueryDict("period=2025Q1&area=XL/NORTH/"))
    assert scope.period.label == "2025Q1"
    assert scope.area == program.area_a.parent and scope.site is None
    assert scope.query() == {"period": "2025Q1", "area": "XL/NORTH"}


def test_it_keeps_other_sites_hidden_from_a_coordinator(program):
    with pytest.raises(NotVisible):
        resolve_scope(program.coordinator_a, QueryDict("period=2025&site=SB1"))
    with pytest.raises(PermissionDenied):
        resolve_scope(program.coordinator_a, QueryDict("period=2025&area=XL"))


def test_it_refuses_users_without_indicators(program):
    with pytest.raises(PermissionDenied):
        resolve_scope(program.worker_a, QueryDict("period=2025&site=NA1"))


def test_it_says_what_a_period_looks_like(program):
    with pytest.raises(ScopeError, match="2025Q1"):
        resolve_scope(program.manager, QueryDict("period=Q1"))
