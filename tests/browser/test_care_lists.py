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
    page.get_by_role("link", name="High-risk windows").click()
    page.wait_for_load_state("load")
    text = page.inner_text("main")
    assert here.reference in text and elsewhere.reference not in text
    page.get_by_role("link", name="Care summary").click()
    page.wait_for_load_state("load")
    assert "Naloxone offered after the prompts" in page.inner_text("main")
