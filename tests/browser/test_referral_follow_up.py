"""Recording a referral's outcome with htmx in a real browser, under the strict CSP."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from salus.services.actions import do_create_referral
from salus.services.models import Referral


@pytest.mark.browser
def test_it_updates_a_referral_in_place(page, live_server, program, log_in, record_contact):
    client = record_contact(program.site_a).client
    referral = do_create_referral("test", client=client, site=program.site_a, service="hcv_care",
                                  made_on=timezone.localdate() - dt.timedelta(days=20))
    csp_errors = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    log_in(program.worker_a)
    page.goto(live_server.url + "/referrals/")
    card = page.locator(f"#referral-{referral.id}")
    card.locator("select").select_option("attended")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    card.get_by_role("button", name="Save outcome").click()
    # The card is swapped in place by htmx: its form goes, the new status shows, no page load.
    page.locator(f"#referral-{referral.id} form").wait_for(state="detached")
    assert "Attended" in page.locator(f"#referral-{referral.id}").inner_text()
    assert navigations == []
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ATTENDED
    assert csp_errors == []
