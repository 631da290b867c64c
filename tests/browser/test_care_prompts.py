"""Overdose-risk prompts and goals in a real browser at phone width: the panel on the client
page, recording a naloxone offer, a goal and a step, and the path over time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from salus.care.models import GoalEvent, PromptCheck
from salus.services.actions import local_date

WIDE = """() => Array.from(document.querySelectorAll('body *'))
    .filter(e => { const r = e.getBoundingClientRect(); return r.right > window.innerWidth + 1 || r.left < -1; })
    .map(e => e.tagName + '.' + e.className)"""


@pytest.mark.browser
def test_it_prompts_offers_naloxone_and_notes_a_goal(page, live_server, program, record_contact, log_in, screenshot_dir):
    today = local_date(timezone.now())
    client = record_contact(program.site_a, raw_uic="BROW1990F", when=today,
                            released_from_detention_on=today - dt.timedelta(days=3)).client
    log_in(program.worker_a)
    page.goto(f"{live_server.url}/clients/{client.id}/")
    prompt = page.locator(".care-prompt[data-rule=released]")
    assert prompt.is_visible() and "most dangerous time" in prompt.inner_text()
    assert page.evaluate(WIDE) == []
    page.screenshot(path=str(screenshot_dir / "care-panel-360.png"), full_page=True)
    page.get_by_role("button", name="Offered and accepted").click()
    page.wait_for_load_state("load")
    assert "Naloxone offered today and accepted." in page.inner_text(".care-panel")
    check = PromptCheck.objects.get(client=client)
    assert check.naloxone_accepted is True

    page.select_option("select[name=rung]", "stay_alive")
    page.locator(".care-goal-add button").click()
    page.wait_for_load_state("load")
    page.get_by_role("button", name="A step toward it").click()
    page.wait_for_load_state("load")
    assert GoalEvent.objects.filter(goal__client=client, kind="step").count() == 1
    page.get_by_role("link", name="The path over time").click()
    page.wait_for_load_state("load")
    assert "A step toward: Stay alive" in page.inner_text(".care-timeline")
