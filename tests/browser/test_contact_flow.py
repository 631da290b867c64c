"""The front-line flow in a real browser at phone width: log in, find or register a client by
the parts of their code, record a contact, see it on the client's timeline; in English and in
Arabic (right to left)."""

from __future__ import annotations

import re

import pytest

from salus.services.models import Contact

PARTS_EN = {"mother": "MA", "father": "JO", "birth_year": "1985", "sex": "M"}
# Letters in Arabic script work as UIC parts; digits may be typed as Eastern Arabic digits.
PARTS_AR = {"mother": "سل", "father": "مح", "birth_year": "١٩٩٢", "sex": "F"}


def fill_parts(page, parts):
    for name, value in parts.items():
        page.fill(f"input[name={name}]", value)


WIDE_ELEMENTS = """() => Array.from(document.querySelectorAll('body *'))
    .filter(e => { const r = e.getBoundingClientRect(); return r.right > window.innerWidth + 1 || r.left < -1; })
    .map(e => e.tagName + '.' + e.className + '#' + e.id)"""


def too_wide(page) -> list[str]:
    """Elements that stick out of the viewport sideways (empty when the layout fits)."""
    return page.evaluate(WIDE_ELEMENTS)


def register_and_record(page, live_server, parts, find_label, save_label, screenshot=None):
    page.goto(live_server.url + "/clients/find/")
    fill_parts(page, parts)
    page.get_by_role("button", name=find_label).click()
    page.wait_for_load_state("load")
    assert page.locator("input[name=token]").count() == 1
    # The raw code never reaches the address bar.
    for value in parts.values():
        assert value not in page.url
    # Three syringes with the + stepper, from 0.
    plus = page.locator("#id_syringes_given ~ button[data-step='1']")
    for _ in range(3):
        plus.click()
    assert page.input_value("#id_syringes_given") == "3"
    page.check("#id_education")
    page.locator("details.more > summary").click()
    page.check("input[name=referrals][value=hiv_testing]")
    assert too_wide(page) == []
    if screenshot:
        page.screenshot(path=str(screenshot), full_page=True)
    page.get_by_role("button", name=save_label).click()
    page.wait_for_url(re.compile(r"/clients/[0-9a-f-]{36}/$"))


@pytest.mark.browser
def test_it_records_a_contact_in_english(page, live_server, program, log_in, screenshot_dir):
    log_in(program.worker_a)
    assert page.locator("html").get_attribute("dir") == "ltr"
    register_and_record(page, live_server, PARTS_EN, "Find", "Save contact", screenshot_dir / "contact-en-360.png")
    timeline = page.locator("#timeline")
    assert "3 syringes given" in timeline.inner_text()
    assert "Information and education" in timeline.inner_text()
    assert "Referred to HIV testing" in timeline.inner_text()
    page.screenshot(path=str(screenshot_dir / "client-en-360.png"), full_page=True)
    assert too_wide(page) == []
    contact = Contact.objects.get()
    assert contact.syringes_given == 3 and contact.site == program.site_a

    # Finding the same person again goes straight to their page.
    page.goto(live_server.url + "/clients/find/")
    fill_parts(page, {k: v.lower() for k, v in PARTS_EN.items()})
    page.get_by_role("button", name="Find").click()
    page.wait_for_url(re.compile(rf"/clients/{contact.client_id}/$"))


@pytest.mark.browser
def test_it_records_a_contact_in_arabic_right_to_left(page, live_server, program, log_in, screenshot_dir):
    log_in(program.worker_a)
    page.goto(live_server.url + "/clients/find/")
    # The language menu submits itself when a language is picked (static JS, no inline script).
    with page.expect_navigation():
        page.select_option("#id_language", "ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    assert "البحث عن مستفيد" in page.locator("h1").inner_text()
    page.screenshot(path=str(screenshot_dir / "find-ar-360.png"), full_page=True)
    register_and_record(page, live_server, PARTS_AR, "بحث", "حفظ الزيارة", screenshot_dir / "contact-ar-360.png")
    timeline = page.locator("#timeline").inner_text()
    # Arabic pages write numbers with Eastern Arabic digits (salus.core.l10n).
    assert "تسليم ٣ محاقن" in timeline
    assert "التوعية والتثقيف" in timeline
    assert "أُحيل إلى: فحص فيروس نقص المناعة البشرية" in timeline
    assert too_wide(page) == []
    # In RTL the text starts at the right edge: the heading's right side is near the viewport's.
    box = page.locator("h1").bounding_box()
    assert box["x"] + box["width"] > 300
    page.screenshot(path=str(screenshot_dir / "client-ar-360.png"), full_page=True)
    client = Contact.objects.get().client
    assert (client.sex, client.birth_year) == ("F", 1992)


@pytest.mark.browser
def test_it_records_a_contact_without_javascript(browser, live_server, program, transactional_db):
    context = browser.new_context(viewport={"width": 360, "height": 780}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/security/login/")
        page.fill("#id_username", "worker_a")
        page.fill("#id_password", "correct horse battery")
        page.click("main button[type=submit]")
        page.goto(live_server.url + "/clients/find/")
        fill_parts(page, PARTS_EN)
        page.get_by_role("button", name="Find").click()
        assert page.locator("button[data-step]").first.is_hidden()
        page.fill("#id_syringes_given", "7")
        page.get_by_role("button", name="Save contact").click()
        page.wait_for_url(re.compile(r"/clients/[0-9a-f-]{36}/$"))
        assert "7 syringes given" in page.locator("#timeline").inner_text()
    finally:
        context.close()
