"""Every page of the main menu fits a 360 px phone: the page itself never scrolls sideways
(a wide table scrolls inside its own box), in a left-to-right and a right-to-left language."""

from __future__ import annotations

import datetime as dt

import pytest


def menu_links(page) -> list[str]:
    """The addresses of the main menu, the "more" part included."""
    return page.eval_on_selector_all("nav.nav a[href]", "els => els.map(e => e.getAttribute('href'))")


def sideways_overflow(page) -> int:
    """How many CSS pixels the document is wider than the window."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_menu_page_fits_a_phone(page, live_server, program, record_contact, log_in, language):
    from django.core.cache import cache

    cache.clear()
    # A few records, so that tables (the audit log above all) have rows to lay out.
    for n, uic in enumerate(("BEAL1990F", "BEAM1991M", "BEAN1992F")):
        record_contact(program.site_a, uic, when=dt.date(2025, 2, 3 + n), syringes_given=10)
    log_in(program.manager)
    if language != "en":
        page.select_option("#id_language", language)
        # The menu submits itself; wait for the page in the new language, not the old one's load.
        page.wait_for_function(f"() => document.documentElement.lang === '{language}'")
        assert page.get_attribute("html", "dir") == "rtl"
    links = menu_links(page)
    assert len(links) >= 8, links
    for href in links:
        page.goto(live_server.url + href)
        assert page.locator("h1").count() >= 1, href
        assert sideways_overflow(page) <= 1, f"{href} is {sideways_overflow(page)} px wider than a 360 px phone"
