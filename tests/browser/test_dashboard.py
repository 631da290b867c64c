"""The dashboard in a real browser: a manager opens it and the charts are really drawn, at a
phone's width and at a desktop's; the printable report lays out for paper."""

from __future__ import annotations

import datetime as dt

import pytest

from salus.core.models import PopulationSizeEstimate

SITE_A_CLIENTS = [f"B{c}CD199{n}F" for n, c in enumerate("EFGHJK")]


@pytest.fixture
def records(program, record_contact):
    from django.core.cache import cache

    cache.clear()  # the dashboard caches monthly trends; this is a new program
    for uic in SITE_A_CLIENTS:
        for month in (1, 2, 3):
            record_contact(program.site_a, uic, when=dt.date(2025, month, 8), syringes_given=12)
    PopulationSizeEstimate.objects.create(
        area=program.area_a, population="pwid", year=2025, estimate=90, low=70, high=120,
        method="Capture-recapture", source="Mapping exercise 2024",
    )
    return program


def drawn_boxes(page, selector: str) -> list[dict]:
    """The on-screen boxes of the SVG elements matching ``selector`` that have an area."""
    return page.eval_on_selector_all(
        selector,
        "els => els.map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0)"
        ".map(r => ({x: r.x, y: r.y, width: r.width, height: r.height}))",
    )


@pytest.mark.browser
def test_it_draws_the_dashboard_for_a_manager(page, live_server, records, log_in, screenshot_dir):
    log_in(records.manager)
    page.goto(live_server.url + "/reports/dashboard/?period=2025Q1&area=XL/NORTH/N1")
    assert page.locator("h1").inner_text() == "Dashboard"

    # Month-by-month: three months with records, each bar of clients reached the same height.
    clients = "#trend-CLIENTS_REACHED svg rect.bar"
    bars = [b for b in drawn_boxes(page, clients)]
    assert len(bars) == 3, "one drawn bar for each month of 2025Q1"
    assert {round(b["height"]) for b in bars} == {round(bars[0]["height"])} and bars[0]["height"] > 10
    # Coverage: the bar, the PSE whisker and the three band zones are on screen.
    assert drawn_boxes(page, "#coverage-NSP_COVERAGE svg rect.bar")
    assert len(drawn_boxes(page, "#coverage-NSP_COVERAGE svg rect.band")) == 3
    whisker = drawn_boxes(page, "#coverage-NSP_COVERAGE svg g.whisker")
    assert whisker and whisker[0]["width"] > 2, "the PSE range is drawn as a whisker"
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(screenshot_dir / "dashboard-360.png"), full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    wide = drawn_boxes(page, clients)
    assert len(wide) == 3 and wide[0]["height"] > bars[0]["height"] * 0.5
    page.screenshot(path=str(screenshot_dir / "dashboard-1280.png"), full_page=True)


@pytest.mark.browser
def test_it_prints_the_program_report(page, live_server, records, log_in, screenshot_dir):
    log_in(records.manager)
    page.goto(live_server.url + "/reports/program-report/?period=2025Q1&area=XL/NORTH/N1")
    assert page.locator("#methods").is_visible()
    assert page.locator("button[data-print]").is_visible(), "print.js shows the Print button"
    page.emulate_media(media="print")
    # The filters and the menu are not printed; the charts and the methods are.
    assert not page.locator(".report-filters").is_visible()
    assert not page.locator("header.topbar").is_visible()
    assert drawn_boxes(page, "#trend-CLIENTS_REACHED svg rect.bar")
    pdf = page.pdf(format="A4")
    assert pdf[:4] == b"%PDF" and pdf.count(b"/Type /Page") >= 3  # cover+table, charts, methods
    (screenshot_dir / "program-report.pdf").write_bytes(pdf)


@pytest.mark.browser
def test_it_says_it_is_working_once_the_filters_are_sent(page, live_server, records, log_in):
    """A large program's first view can take a minute: once the period or place is sent, the
    page says it is working, and the button cannot send it twice."""
    log_in(records.manager)
    page.goto(live_server.url + "/reports/dashboard/?period=2025Q1")
    note = page.locator(".report-filters [data-working]")
    button = page.locator(".report-filters button[type=submit]")
    assert not note.is_visible()
    # Keep the browser on this page (the answer would replace it), after Salus's own handler.
    page.evaluate("document.querySelector('.report-filters').addEventListener('submit', e => e.preventDefault())")
    button.click()
    assert note.is_visible()
    assert note.get_attribute("role") == "status"
    assert button.is_disabled()
    assert page.locator(".report-filters").get_attribute("aria-busy") == "true"
