"""The coordinators' high-risk list and the care summary in a real browser."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from salus.services.actions import local_date


@pytest.mark.browser
def test_it_lists_people_in_a_high_risk_window_and_the_summary(page, live_server, program, record_contact, log_in):
    today = local_date(timezone.now())
    here = record_contact(program.site_a, raw_uic="HIGH1990F", when=today,
                          left_treatment_on=today - dt.timedelta(days=6)).client
    elsewhere = record_contact(program.site_b, raw_uic="ELSE1990F", when=today,
                               released_from_detention_on=today - dt.timedelta(days=2)).client
    log_in(program.coordinator_a)
    # The menu offers the screen (perhaps under "More" on a phone).
    assert page.locator("nav a", has_text="High-risk windows").count() == 1
    page.goto(live_server.url + "/care/high-risk/")
    text = page.inner_text("main")
    assert here.reference in text and elsewhere.reference not in text
    page.goto(live_server.url + "/care/summary/")
    assert "Naloxone offered after the prompts" in page.inner_text("main")
