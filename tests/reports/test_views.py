"""Indicator page, dashboard and program report, by role, against counts made by hand
(tests/reports/conftest.py describes the records)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from salus.core import keys  # noqa: F401  (keys are made by the autouse fixture)
from salus.core.config import reset_cache

pytestmark = pytest.mark.django_db


def _row(response, code):
    return next(r for r in response.context["rows"] if r.code == code)


def _get(client, user, name, **params):
    client.force_login(user)
    return client.get(reverse(name), params)


def test_it_shows_the_whole_program_to_a_manager(client, quarter):
    r = _get(client, quarter.manager, "indicators-home", period="2025Q1")
    assert r.status_code == 200
    assert _row(r, "CLIENTS_REACHED").programme == "8"  # 6 at site A + 2 at site B
    assert _row(r, "SYRINGES_DISTRIBUTED").programme == "190"  # 6 × 3 × 10 + 2 × 5
    assert _row(r, "CONTACTS").programme == "20"
    assert r.context["suppressed"] is False


def test_it_shows_both_denominators_and_the_pse_range(client, quarter):
    r = _get(client, quarter.manager, "indicators-home", period="2025Q1", area="XL/NORTH/N1")
    row = _row(r, "NSP_COVERAGE")
    # 6 people who inject drugs got syringes; PSE 100 (80-125); all 6 PWID clients got syringes.
    assert row.population == "6.0%"
    assert row.pse_range == "4.8%–7.5%"
    assert row.programme == "100.0%"
    assert row.level == "low" and row.level_label == "Low"
    html = r.content.decode()
    assert "level-low" in html and "4.8%–7.5%" in html


def test_it_explains_a_missing_population_value(client, quarter):
    r = _get(client, quarter.manager, "indicators-home", period="2025Q1", area="XL/SOUTH/S1")
    row = _row(r, "NSP_COVERAGE")
    assert row.population == ""
    assert "XL/SOUTH/S1" in row.note  # the engine's reason: no estimate for that area


def test_it_suppresses_small_numbers_for_an_analyst(client, quarter):
    r = _get(client, quarter.analyst, "indicators-home", period="2025Q1", area="XL/SOUTH/S1")
    assert r.status_code == 200
    assert r.context["suppressed"] is True
    row = _row(r, "CLIENTS_REACHED")  # two clients at site B: below the threshold of 5
    assert row.suppressed and row.programme == "suppressed"
    assert "Small numbers are hidden" in r.content.decode()


def test_it_does_not_suppress_for_a_manager(client, quarter):
    r = _get(client, quarter.manager, "indicators-home", period="2025Q1", area="XL/SOUTH/S1")
    assert _row(r, "CLIENTS_REACHED").programme == "2"


def test_it_limits_a_coordinator_to_own_sites(client, quarter):
    r = _get(client, quarter.coordinator_a, "indicators-home", period="2025Q1")
    assert r.status_code == 200
    assert r.context["scope"].site == quarter.site_a  # their site by default, not the program
    assert _row(r, "CLIENTS_REACHED").programme == "6"
    assert _get(client, quarter.coordinator_a, "indicators-home", period="2025Q1", site="SB1").status_code == 404
    assert _get(client, quarter.coordinator_a, "indicators-home", period="2025Q1", area="XL").status_code == 403
    assert _get(client, quarter.coordinator_a, "reports-dashboard", period="2025Q1", area="XL").status_code == 403


def test_it_refuses_roles_without_indicators(client, quarter):
    for user in (quarter.worker_a, quarter.clinician_a):
        assert _get(client, user, "indicators-home", period="2025Q1", site="NA1").status_code == 403


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "2025Q5"}, "is not a period"),
        ({"period": "last year"}, "is not a period"),
        ({"period": "2025", "area": "XL/NOWHERE"}, "There is no area"),
        ({"period": "2025", "site": "ZZ9"}, "There is no site"),
        ({"period": "2025", "area": "XL/SOUTH", "site": "NA1"}, "is not in the area"),
    ],
)
@pytest.mark.parametrize("name", ["indicators-home", "reports-dashboard", "reports-program-report"])
def test_it_explains_bad_input_instead_of_failing(client, program, name, params, message):
    r = _get(client, program.manager, name, **params)
    assert r.status_code == 400
    assert message in r.content.decode()


def test_it_narrows_an_area_to_a_site_inside_it(client, quarter):
    r = _get(client, quarter.manager, "indicators-home", period="2025Q1", area="XL/NORTH", site="NA1")
    assert r.status_code == 200
    assert r.context["scope"].site == quarter.site_a and r.context["scope"].area is None


def test_it_draws_twelve_months_of_trends(client, quarter):
    r = _get(client, quarter.manager, "reports-dashboard", period="2025Q1", site="NA1")
    assert r.status_code == 200
    trends = {t.code: t for t in r.context["trends"]}
    clients = trends["CLIENTS_REACHED"]
    assert len(clients.rows) == 12
    assert clients.rows[0][0] == "April 2024" and clients.rows[-1][0] == "March 2025"
    # Six clients each month of 2025Q1, none before.
    assert [shown for _m, shown in clients.rows[-3:]] == ["6", "6", "6"]
    assert clients.svg.count('class="bar"') == 12
    assert clients.svg.count('data-value="6"') == 3
    assert [shown for _m, shown in trends["SYRINGES_DISTRIBUTED"].rows[-3:]] == ["60", "60", "60"]
    assert trends["HIV_TESTS"].rows[-1][1] == "6"


def test_it_draws_coverage_against_bands_with_the_pse_range(client, quarter):
    r = _get(client, quarter.manager, "reports-dashboard", period="2025Q1", area="XL/NORTH/N1")
    coverage = {c.code: c for c in r.context["coverage"]}
    nsp = coverage["NSP_COVERAGE"]
    assert nsp.level == "low"
    assert 'data-value="0.06"' in nsp.svg
    assert 'data-low="0.048"' in nsp.svg and 'data-high="0.075"' in nsp.svg
    assert nsp.svg.count('class="band band-') == 3
    # Syringes per PWID per year: 180 in 90 days, annualised × 365/90, over 100 people.
    per_pwid = coverage["NSP_SYRINGES_PER_PWID"]
    assert f'data-value="{180 * 365 / 90 / 100:g}"' in per_pwid.svg
    assert 'class="target"' in per_pwid.svg  # UNAIDS 2025: more than 200


def test_it_hides_small_months_from_an_analyst(client, quarter):
    r = _get(client, quarter.analyst, "reports-dashboard", period="2025Q1", area="XL/SOUTH/S1")
    trends = {t.code: t for t in r.context["trends"]}
    feb = dict(trends["CLIENTS_REACHED"].rows)["February 2025"]
    assert feb == "suppressed"
    assert 'data-value="2"' not in trends["CLIENTS_REACHED"].svg


def test_it_prints_a_report_with_methods(client, quarter):
    r = _get(client, quarter.manager, "reports-program-report", period="2025Q1", area="XL/NORTH/N1")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="methods"' in html
    assert "Integrated bio-behavioural survey 2024" in html and "Multiplier method" in html
    assert "Counts from 1 to 4 are not printed" in html
    # The methods describe what hides a complement: rule 2 within a group, then the audit of
    # the year's pages together (docs/indicators.md, rules 2 and 8).
    assert "another of the group is hidden too" in html and "next smallest" not in html
    assert "All these pages of the year are then checked together" in html
    assert "each small number and each hidden total is instead hidden with a few others around it" in html
    assert "one place and the places within it at a time" not in html
    from salus.indicators.catalogue import get

    assert str(get("NSP_COVERAGE").definition) in html
    assert "SYNTHETIC DEMO DATA" not in html


def test_it_suppresses_the_printed_report_even_for_a_manager(client, quarter):
    r = _get(client, quarter.manager, "reports-program-report", period="2025Q1", area="XL/SOUTH/S1")
    assert r.context["suppressed"] is True
    assert _row(r, "CLIENTS_REACHED").programme == "suppressed"


def test_it_labels_a_synthetic_program_on_the_report(client, quarter, settings, tmp_path, monkeypatch):
    config = tmp_path / "program.toml"
    config.write_text("synthetic = true\n")
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(config))
    reset_cache()
    r = _get(client, quarter.manager, "reports-program-report", period="2025Q1")
    assert "SYNTHETIC DEMO DATA: this report describes no real people." in r.content.decode()


def test_it_suppresses_cached_trends_for_each_reader(client, quarter):
    """A manager's visit fills the trend cache; an analyst's next visit must still be suppressed."""
    manager = _get(client, quarter.manager, "reports-dashboard", period="2025Q1", area="XL/SOUTH/S1")
    assert dict(manager.context["trends"][0].rows)["February 2025"] == "2"
    analyst = _get(client, quarter.analyst, "reports-dashboard", period="2025Q1", area="XL/SOUTH/S1")
    assert dict(analyst.context["trends"][0].rows)["February 2025"] == "suppressed"


@pytest.mark.parametrize("place", [{}, {"area": "XL/SOUTH/S1"}, {"site": "NA1"}])
def test_it_shows_an_analyst_the_same_month_on_both_pages(client, quarter, place):
    """A month is hidden on the dashboard exactly when the indicators page hides it (otherwise
    one page would undo the other's suppression), and a month both show has the same number."""
    board = _get(client, quarter.analyst, "reports-dashboard", period="2025Q1", **place)
    trends = {t.code: dict(t.rows) for t in board.context["trends"]}
    for month, label in (("2025-01", "January 2025"), ("2025-02", "February 2025"), ("2025-03", "March 2025")):
        page = _get(client, quarter.analyst, "indicators-home", period=month, **place)
        for code in ("CLIENTS_REACHED", "NEW_CLIENTS", "SYRINGES_DISTRIBUTED", "HIV_TESTS"):
            row = _row(page, code)
            on_board = trends[code][label]
            assert on_board == row.numerator, (code, month, place)


def test_it_hides_a_second_month_when_months_add_up_to_the_quarter(client, quarter):
    """Whole program, new clients: January 6 (site A), February 2 (site B), March 0. Hiding
    February alone would leave it as the quarter's 8 minus 6, so January is hidden too;
    clients reached (unique per month, not additive) keeps January."""
    board = _get(client, quarter.analyst, "reports-dashboard", period="2025Q1")
    trends = {t.code: dict(t.rows) for t in board.context["trends"]}
    assert trends["NEW_CLIENTS"]["February 2025"] == "suppressed"
    assert trends["NEW_CLIENTS"]["January 2025"] == "suppressed"
    assert trends["NEW_CLIENTS"]["March 2025"] == "0"
    assert trends["CLIENTS_REACHED"]["January 2025"] == "6"


def test_it_shows_every_indicator_the_engine_computes(client, quarter):
    """The page shows the engine's numbers (as ``salus indicators`` prints them), one row per
    catalogue indicator, each in its place."""
    from salus.indicators.catalogue import CODES, get
    from salus.indicators.engine import compute_indicators
    from salus.reports.formatting import format_value

    r = _get(client, quarter.manager, "indicators-home", period="2025Q1", area="XL/NORTH/N1")
    assert [row.code for row in r.context["rows"]] == list(CODES)
    for cell in compute_indicators("2025Q1", area="XL/NORTH/N1", disaggregate=False):
        ind, row = get(cell["code"]), _row(r, cell["code"])
        if ind.population:
            assert row.population == format_value(cell["value"], ind.kind), ind.code
            assert row.programme == format_value(cell["programme_value"], ind.kind), ind.code
        else:
            assert row.programme == format_value(cell["value"], ind.kind), ind.code
        assert row.numerator == format_value(cell["numerator"], "count"), ind.code


def test_it_says_when_the_period_is_not_over(client, program, time_machine):
    import datetime as dt

    time_machine.move_to(dt.datetime(2025, 5, 20, 12, tzinfo=dt.UTC))
    running = _get(client, program.manager, "indicators-home", period="2025Q2")
    assert "2025Q2 is not over yet" in running.content.decode()
    done = _get(client, program.manager, "indicators-home", period="2025Q1")
    assert "is not over yet" not in done.content.decode()


def test_it_prints_the_definitions_in_the_readers_language(client, quarter):
    from django.utils import translation

    from salus.indicators.catalogue import get

    client.force_login(quarter.manager)
    r = client.get(reverse("reports-program-report"), {"period": "2025Q1"}, HTTP_ACCEPT_LANGUAGE="ru")
    html = r.content.decode()
    with translation.override("ru"):
        russian = str(get("CLIENTS_REACHED").definition)
    with translation.override("en"):
        english = str(get("CLIENTS_REACHED").definition)
    assert russian.startswith("Уникальные клиенты") and russian in html
    assert english.startswith("Unique clients") and english not in html
