"""Rights-violation reports in a real browser: a worker takes one, sees only that it exists;
the rights focal person reads it, records the response, and prints the advocacy report."""

from __future__ import annotations

import pytest
from django.utils import timezone

from salus.care.models import RightsReport
from salus.services.actions import local_date


@pytest.mark.browser
def test_it_takes_a_report_and_the_focal_person_follows_it_up(page, live_server, program, log_in):
    today = local_date(timezone.now())
    log_in(program.worker_a)
    page.goto(live_server.url + "/care/rights/new/")
    page.fill("#id_occurred_on", today.isoformat())
    page.select_option("#id_area", str(program.area_a.pk))
    page.select_option("#id_violation_type", "confiscation")
    page.select_option("#id_perpetrator", "police")
    page.check("input[name=client_wants][value=legal]")
    page.fill("#id_details", "Kit taken during a search")
    page.check("#id_consent_advocacy")
    page.get_by_role("button", name="Save the report").click()
    page.wait_for_load_state("load")
    report = RightsReport.objects.get()
    assert str(report)[:8] in page.inner_text("main")
    assert "Kit taken" not in page.content()

    program.coordinator_a.rights_focal_person = True
    program.coordinator_a.save()
    page.context.clear_cookies()
    log_in(program.coordinator_a)
    page.goto(live_server.url + "/care/rights/")
    page.get_by_role("link", name=str(report)).click()
    page.wait_for_load_state("load")
    assert "Kit taken during a search" in page.inner_text("main")
    page.fill("#id_response", "Referred to the partner lawyer")
    page.select_option("#id_outcome", "resolved")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")
    report.refresh_from_db()
    assert report.outcome == "resolved" and report.response == "Referred to the partner lawyer"
    page.goto(f"{live_server.url}/care/rights/advocacy/?period={today.year}")
    assert "fewer than 5" in page.inner_text("main")
