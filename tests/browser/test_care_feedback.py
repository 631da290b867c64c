"""Community feedback in a real browser: an anonymous person fills in the form on a phone, in
Arabic; the coordinator reads it, records "you said, we did", and opens the QR poster."""

from __future__ import annotations

import pytest

from salus.care.models import Feedback


@pytest.mark.browser
def test_it_takes_anonymous_feedback_and_shows_the_response(page, live_server, program, log_in, screenshot_dir):
    page.goto(f"{live_server.url}/care/f/{program.site_a.feedback_key}/?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    # The honeypot sits off screen, on the side that cannot be scrolled to.
    box = page.locator(".care-hp").bounding_box()
    assert box["x"] + box["width"] <= 0 or box["x"] >= page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    page.check("input[name=satisfaction][value='4']")
    page.fill("#id_missing", "More naloxone kits")
    page.screenshot(path=str(screenshot_dir / "care-feedback-ar-360.png"), full_page=True)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state("load")
    fb = Feedback.objects.get()
    assert fb.language == "ar" and fb.satisfaction == 4

    log_in(program.coordinator_a)
    page.goto(live_server.url + "/care/feedback/")
    assert "More naloxone kits" in page.inner_text("main")
    page.fill("#id_you_said", "More naloxone kits")
    page.fill("#id_we_did", "We doubled the order")
    page.get_by_role("button", name="Record the response").click()
    page.wait_for_load_state("load")
    page.goto(f"{live_server.url}/care/feedback/{program.site_a.code}/poster/")
    qr = page.locator("img.care-qr")
    qr.wait_for()
    page.wait_for_function("() => { const i = document.querySelector('img.care-qr'); return i.complete; }")
    assert qr.evaluate("img => img.naturalWidth > 0")
    assert "We doubled the order" in page.inner_text("main")
