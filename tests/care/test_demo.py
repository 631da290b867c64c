"""The demo program's synthetic care records."""

from __future__ import annotations

import pytest

from salus.care.models import Feedback, FeedbackResponse, Goal, GoalEvent, RightsReport
from salus.services.models import Contact


@pytest.mark.slow
@pytest.mark.django_db
def test_it_adds_goals_rights_reports_and_feedback_to_the_demo(tmp_path, monkeypatch):
    from salus.core import keys
    from salus.transfer.demo import load_demo

    # The demo marks its program.toml synthetic: keep that file out of the shared test home.
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(tmp_path / "program.toml"))
    keys.ensure_keys()
    load_demo(clients=60, days=120)
    assert Goal.objects.exists() and GoalEvent.objects.exists()
    assert Contact.objects.filter(released_from_detention_on__isnull=False).exists()
    assert RightsReport.objects.count() == 40 and RightsReport.objects.filter(consent_advocacy=True).exists()
    assert Feedback.objects.count() == 90 and FeedbackResponse.objects.exists()
    # Steps and setbacks never before the goal was chosen.
    assert all(e.date >= e.goal.chosen_on for e in GoalEvent.objects.select_related("goal"))
