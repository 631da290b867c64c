"""GET /api/v1/indicators: the rows another system takes, always suppressed and audited."""

from __future__ import annotations

import datetime as dt

import pytest

from salus.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(program, record_contact):
    """Site A: six clients, 10 syringes each in February 2025. Site B: two clients (small)."""
    for n, uic in enumerate(("BEAL1990F", "BEAM1991M", "BEAN1992F", "BEAP1993M", "BEAR1994F", "BEAS1995M")):
        record_contact(program.site_a, uic, when=dt.date(2025, 2, 3 + n), syringes_given=10)
    for uic in ("KLMN1980F", "PQRS1981F"):
        record_contact(program.site_b, uic, when=dt.date(2025, 2, 12), syringes_given=5)
    return program


def _rows(response) -> dict:
    assert response.status_code == 200, response.content
    return {(r["code"], tuple(sorted(r["disaggregation"].items()))): r for r in response.json()}


def test_it_gives_the_rows_of_the_command_line_suppressed(api, records):
    from salus.indicators.release import suppressed_indicators

    rows = _rows(api.get("/indicators?period=2025Q1", as_="manager"))
    expected = suppressed_indicators("2025Q1")
    assert len(rows) == len(expected)
    for want in expected:
        got = rows[(want["code"], tuple(sorted(want["disaggregation"].items())))]
        for key in ("value", "programme_value", "numerator", "denominator", "level", "note", "period", "area", "site"):
            assert got[key] == want[key], (want["code"], key)
        assert got["suppressed"] is bool(want.get("suppressed"))
    assert rows[("CLIENTS_REACHED", ())]["numerator"] == 8
    # Site B's two clients are hidden, even for a manager, who sees them on screen.
    site_b = rows[("CLIENTS_REACHED", (("area", "XL/SOUTH/S1"), ("site", "SB1")))]
    assert site_b["numerator"] is None and site_b["suppressed"] is True


def test_totals_only_and_a_place(api, records):
    rows = _rows(api.get("/indicators?period=2025-02&area=XL/NORTH/N1&totals=true", as_="analyst"))
    assert all(not key[1] for key in rows)
    syringes = rows[("SYRINGES_DISTRIBUTED", ())]
    assert syringes["numerator"] == 60 and syringes["area"] == "XL/NORTH/N1" and syringes["period"] == "2025-02"


def test_each_answer_is_audited(api, records, program):
    api.get("/indicators?period=2025Q1&site=NA1&totals=true", as_="analyst")
    ev = AuditEvent.objects.filter(action="export.aggregate").get()
    assert ev.actor == program.analyst and ev.object_type == "api" and ev.site_code == "NA1"
    assert ev.detail["format"] == "api" and ev.detail["period"] == "2025Q1" and ev.detail["written"] == 23


def test_a_coordinator_gets_their_own_site(api, records):
    rows = _rows(api.get("/indicators?period=2025Q1&totals=true", as_="coordinator_a"))
    assert rows[("CLIENTS_REACHED", ())]["site"] == "NA1"
    assert api.get("/indicators?period=2025Q1&site=SB1", as_="coordinator_a").status_code == 404
    assert api.get("/indicators?period=2025Q1&area=XL", as_="coordinator_a").status_code == 403


@pytest.mark.parametrize("query, field", [
    ("period=2025Q5", "period"), ("period=soon", "period"), ("period=2025&area=NOWHERE", "area"),
    ("period=2025&site=ZZ9", "site"), ("area=XL", "period"),
])
def test_bad_input_names_its_field(api, records, query, field):
    r = api.get(f"/indicators?{query}", as_="manager")
    assert r.status_code == 422, (query, r.content)
    assert r.json()["detail"][0]["field"] == field
    assert not AuditEvent.objects.filter(action="export.aggregate").exists()
