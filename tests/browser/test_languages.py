"""The person-centred care screens in Farsi (right to left, Persian digits) and in Chinese.

Each test switches language through the real language menu, as a worker would, and checks
that the screen is translated, laid out in the right direction, and fits a 360 px phone.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone, translation

from salus.care.rules import RULES
from salus.core.l10n import localise_digits

PERSIAN_LETTERS = re.compile(r"[\u0600-\u06FF]")
PERSIAN_DIGITS = re.compile(r"[۰-۹]")
HAN = re.compile(r"[\u4e00-\u9fff]")


def _switch_language(page, code: str) -> None:
    page.select_option("#id_language", code)
    # The menu submits itself when JavaScript runs; wait for the page in the new language.
    page.wait_for_function(f"() => document.documentElement.lang === '{code}'")


def _rule(code: str):
    return next(r for r in RULES if r.code == code)


def _fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.browser
def test_it_shows_the_overdose_risk_prompts_in_farsi(page, live_server, program, log_in, record_contact, screenshot_dir):
    today = timezone.localdate()
    client = record_contact(
        program.site_a, raw_uic="RELE1990F", when=today, released_from_detention_on=today - dt.timedelta(days=5)
    ).client
    log_in(program.worker_a)
    _switch_language(page, "fa")
    page.goto(f"{live_server.url}/care/clients/{client.id}/")
    page.screenshot(path=str(screenshot_dir / "care-prompts-fa-360.png"), full_page=True)

    assert page.locator("html").get_attribute("dir") == "rtl"
    main = page.inner_text("main")
    with translation.override("en"):
        english = str(_rule("released").title)
    with translation.override("fa"):
        title = str(_rule("released").title)
    assert title != english and localise_digits(title, "fa") in main, "the prompt's title should be shown in Farsi"
    assert len(PERSIAN_LETTERS.findall(main)) > 50, "the screen should be in Persian script"
    assert PERSIAN_DIGITS.search(main), "numbers on a Farsi page are written with Persian digits"
    assert _fits_the_phone(page)


@pytest.mark.browser
def test_it_shows_the_high_risk_list_in_chinese(page, live_server, program, log_in, record_contact, screenshot_dir):
    today = timezone.localdate()
    record_contact(program.site_a, raw_uic="RELE1990F", when=today, released_from_detention_on=today - dt.timedelta(days=3))
    log_in(program.coordinator_a)
    _switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/care/high-risk/")
    page.screenshot(path=str(screenshot_dir / "care-high-risk-zh-360.png"), full_page=True)

    assert page.locator("html").get_attribute("dir") in (None, "ltr")
    main = page.inner_text("main")
    with translation.override("zh-hans"):
        title = str(_rule("released").title)
    assert HAN.search(title), "the catalogue must hold a Chinese title for the rule"
    assert len(HAN.findall(main)) > 20, "the screen should be in Chinese"
    assert _fits_the_phone(page)
