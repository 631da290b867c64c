"""The model page: the program's own data in, a comparison with uncertainty out."""

import datetime as dt

import pytest
from tests.conftest import PASSWORD

from salus.core.models import PopulationSizeEstimate


@pytest.fixture
def area_with_data(program, record_contact):
    PopulationSizeEstimate.objects.create(area=program.area_a, population="pwid", year=2025, estimate=400, low=300, high=500)
    for i, uic in enumerate(["MAJO1985M", "FATI1990F", "ALBO1979M"]):
        record_contact(program.site_a, uic, when=dt.date(2025, 3, 1 + i), syringes_given=40, naloxone_kits_given=1)
    return program


def _get(client, user, **query):
    client.login(username=user.username, password=PASSWORD)
    return client.get("/model/", query)


def test_it_shows_the_comparison_for_a_manager(client, area_with_data):
    resp = _get(client, area_with_data.manager, area="XL/NORTH/N1", year="2025", ost="40")
    assert resp.status_code == 200
    comp = resp.context["comparison"]
    assert comp is not None
    averted = comp["comparison"]["overdose_deaths_averted"]
    assert averted["low"] <= averted["value"] <= averted["high"]
    # Raising OST above today's (zero) coverage must avert overdose deaths.
    assert averted["value"] > 0, "more OST than today should avert overdose deaths"
    assert "95 %" in resp.content.decode()


def test_it_starts_from_the_programs_own_coverage(client, area_with_data):
    resp = _get(client, area_with_data.manager, area="XL/NORTH/N1", year="2025")
    naloxone = next(i for i in resp.context["interventions"] if i["key"] == "naloxone")
    # 3 kits for a PSE of 400 people: 0.75 % rounds to 1 %.
    assert naloxone["current"] == 1


def test_it_explains_a_missing_population_estimate(client, program):
    resp = _get(client, program.manager, area="XL/SOUTH/S1", year="2025")
    assert resp.status_code == 200
    assert resp.context["comparison"] is None
    assert resp.context["error"]


def test_it_refuses_a_bad_year_with_a_message(client, area_with_data):
    resp = _get(client, area_with_data.manager, area="XL/NORTH/N1", year="20x5")
    assert resp.status_code == 200 and resp.context["error"]


def test_it_refuses_workers(client, program):
    assert _get(client, program.worker_a).status_code == 403


def test_it_downloads_the_report(client, area_with_data):
    client.login(username="manager", password=PASSWORD)
    resp = client.get("/model/report/", {"area": "XL/NORTH/N1", "year": "2025"})
    assert resp.status_code == 200
    assert "attachment" in resp["Content-Disposition"]
    assert b"<svg" in resp.content


def test_it_describes_the_scenario_in_the_readers_language(client, area_with_data):
    client.login(username=area_with_data.manager.username, password=PASSWORD)
    resp = client.get("/model/", {"area": "XL/NORTH/N1", "year": "2025"}, HTTP_ACCEPT_LANGUAGE="ru")
    description = resp.context["inputs"].scenario["description"]
    assert description.startswith("Построено по данным программы для территории XL/NORTH/N1, 2025.")
    assert "NALOXONE_KITS_DISTRIBUTED" in description  # codes stay codes
    english = client.get("/model/", {"area": "XL/NORTH/N1", "year": "2025"}, HTTP_ACCEPT_LANGUAGE="en")
    assert english.context["inputs"].scenario["description"].startswith("Built from programme data")
