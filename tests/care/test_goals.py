"""The client-chosen goal ladder: choosing, steps and setbacks, the timeline, aggregates."""

from __future__ import annotations

import datetime as dt

import pytest

from salus.care import actions, aggregates, goals
from salus.care.models import Goal, GoalEvent
from salus.core.config import reset_cache
from salus.indicators.periods import parse_period


@pytest.fixture
def client_a(program, record_contact, today):
    return record_contact(program.site_a, raw_uic="GOAL1988F", when=today, naloxone_kits_given=1).client


def test_it_reads_the_ladder_from_the_program_configuration(settings, tmp_path, monkeypatch):
    assert goals.ladder()[0] == "stay_alive" and goals.ladder()[-1] == "stop"
    cfg = tmp_path / "program.toml"
    cfg.write_text('goal_ladder = ["stay_alive", "find_work"]\n')
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(cfg))
    reset_cache()
    assert goals.rung_choices() == [("stay_alive", "Stay alive"), ("find_work", "find work")]


def test_it_holds_several_goals_at_once_and_none_twice(program, client_a, today):
    a = actions.do_choose_goal(program.worker_a, client=client_a, site=program.site_a, rung="stay_alive", chosen_on=today)
    b = actions.do_choose_goal(program.worker_a, client=client_a, site=program.site_a, rung="stability", chosen_on=today)
    again = actions.do_choose_goal(program.worker_a, client=client_a, site=program.site_a, rung="stay_alive", chosen_on=today)
    assert a != b and again == a
    assert Goal.objects.filter(client=client_a).count() == 2
    with pytest.raises(ValueError):
        actions.do_choose_goal(program.worker_a, client=client_a, site=program.site_a, rung="be_good", chosen_on=today)


def test_it_records_steps_and_setbacks_and_refuses_dates_before_the_goal(program, client_a, today):
    g = actions.do_choose_goal(program.worker_a, client=client_a, site=program.site_a, rung="safer_use", chosen_on=today)
    actions.do_record_goal_event(program.worker_a, g, site=program.site_a, kind="step", date=today)
    actions.do_record_goal_event(program.worker_a, g, site=program.site_a, kind="setback", date=today)
    assert list(g.events.values_list("kind", flat=True)) == ["step", "setback"]
    with pytest.raises(ValueError):
        actions.do_record_goal_event(program.worker_a, g, site=program.site_a, kind="step", date=today - dt.timedelta(days=1))
    with pytest.raises(ValueError):
        actions.do_record_goal_event(program.worker_a, g, site=program.site_a, kind="failure", date=today)


def test_it_shows_the_path_over_time_from_the_web(login, program, client_a):
    c = login(program.worker_a)
    assert c.post(f"/care/clients/{client_a.id}/goals/", {"rung": "avoid_infections"}).status_code == 302
    goal = Goal.objects.get(client=client_a)
    assert c.post(f"/care/goals/{goal.id}/events/", {"kind": "step"}).status_code == 302
    # Linked to today's contact with the person.
    assert GoalEvent.objects.get(kind="step").contact.client_id == client_a.id
    assert c.post(f"/care/goals/{goal.id}/events/", {"kind": "setback"}).status_code == 302
    body = c.get(f"/care/clients/{client_a.id}/").content.decode()
    assert "Chose a goal: Avoid infections" in body
    assert "A step toward: Avoid infections" in body and "A setback on the way to: Avoid infections" in body
    assert c.post(f"/care/goals/{goal.id}/set-aside/").status_code == 302
    goal.refresh_from_db()
    assert goal.ended_on is not None
    # Another site's worker cannot touch it.
    other = login(program.worker_b)
    assert other.post(f"/care/goals/{goal.id}/events/", {"kind": "step"}).status_code == 404


def test_it_counts_goals_and_steps_by_rung_in_a_period(program, record_contact):
    day = dt.date(2026, 5, 10)
    period = parse_period("2026Q2")
    for i in range(6):
        client = record_contact(program.site_a, raw_uic=f"AG{'ABCDEF'[i]}A1990M", when=day).client
        g = actions.do_choose_goal("test", client=client, site=program.site_a, rung="stay_alive", chosen_on=day)
        if i < 2:
            actions.do_record_goal_event("test", g, site=program.site_a, kind="step", date=day)
        if i == 0:
            # Two goals for one person: counted once overall.
            g2 = actions.do_choose_goal("test", client=client, site=program.site_a, rung="stop", chosen_on=day)
            actions.do_record_goal_event("test", g2, site=program.site_a, kind="step", date=day)
            actions.do_record_goal_event("test", g2, site=program.site_a, kind="setback", date=day)
    s = aggregates.goal_summary({program.site_a.id}, period, goals.ladder())
    assert s["clients_with_goals"] == 6 and s["clients_with_step"] == 2
    by_rung = {r: (h, st) for r, h, st in s["by_rung"]}
    assert by_rung["stay_alive"] == (6, 2) and by_rung["stop"] == (1, 1) and by_rung["stability"] == (0, 0)
    assert aggregates.goal_summary({program.site_b.id}, period, goals.ladder())["clients_with_goals"] == 0
    # The quarter before: nothing yet.
    assert aggregates.goal_summary(None, parse_period("2026Q1"), goals.ladder())["clients_with_goals"] == 0
    assert GoalEvent.objects.count() == 4


def test_it_hides_small_counts_that_do_not_add_up_one_by_one():
    assert aggregates.suppress_each({"a": 10, "b": 3, "c": 7, "d": 0}, 5) == {"a": 10, "b": None, "c": 7, "d": 0}


def test_it_hides_a_small_cell_and_the_one_that_would_give_it_away_in_a_breakdown():
    total, cells = aggregates.suppress_partitions(
        17, {"type": {"x": 10, "y": 3, "z": 4}, "who": {"police": 17}}, 5
    )
    # y and z are small; both hidden already, so no complement is needed; the total stays.
    assert total == 17 and cells["type"] == {"x": 10, "y": None, "z": None} and cells["who"] == {"police": 17}
    total, cells = aggregates.suppress_partitions(16, {"type": {"x": 10, "y": 3, "z": 3}}, 5)
    assert cells["type"] == {"x": 10, "y": None, "z": None}
    total, cells = aggregates.suppress_partitions(16, {"type": {"x": 10, "y": 2, "z": 6}}, 5)
    # y alone would be total - x - z: z (the smallest shown) is hidden with it.
    assert total == 16 and cells["type"] == {"x": 10, "y": None, "z": None}


def test_it_shows_the_summary_suppressed_to_those_without_unsuppressed_access(login, program, record_contact, today):
    client = record_contact(program.site_a, raw_uic="SUMM1990M", when=today).client
    actions.do_choose_goal("test", client=client, site=program.site_a, rung="stay_alive", chosen_on=today)
    body = login(program.analyst).get("/care/summary/").content.decode()
    assert "fewer than 5" in body
    body = login(program.coordinator_a).get("/care/summary/").content.decode()
    assert "People holding at least one goal" in body


def test_it_offers_only_goals_not_already_held(login, program, client_a, today):
    for rung in goals.ladder()[:-1]:
        actions.do_choose_goal("test", client=client_a, site=program.site_a, rung=rung, chosen_on=today)
    body = login(program.worker_a).get(f"/care/clients/{client_a.id}/").content.decode()
    assert '<option value="stop">' in body and '<option value="stay_alive">' not in body
    actions.do_choose_goal("test", client=client_a, site=program.site_a, rung="stop", chosen_on=today)
    assert "care-goal-add" not in login(program.worker_a).get(f"/care/clients/{client_a.id}/").content.decode()


def test_no_summary_gives_away_a_month_of_prompts_hidden_in_another(program, record_contact):
    """Prompts shown for 6 people in January, 2 in February, 7 in March 2025: February is hidden
    in its own summary, and the first quarter's summary and the other months' must not give it
    back (prompt counts add up over months)."""
    from salus.care import aggregates
    from salus.indicators.periods import parse_period

    n = 0
    for month, people in ((1, 6), (2, 2), (3, 7)):
        for _ in range(people):
            client = record_contact(program.site_a, raw_uic=f"PR{chr(65 + n // 26)}{chr(65 + n % 26)}1990F").client
            actions.do_note_prompts_shown(program.worker_a, client=client, site=program.site_a,
                                          rule_codes=["released"], shown_on=dt.date(2025, month, 3))
            n += 1
    ids = {program.site_a.id}
    shown = {label: aggregates._prompts_suppressed_over_the_year(ids, parse_period(label), 5)
             for label in ("2025Q1", "2025-01", "2025-02", "2025-03")}
    for group, key in (("prompts", "shown"), ("by_rule", "released")):
        months = [shown[m][0 if group == "prompts" else 1][key] for m in ("2025-01", "2025-02", "2025-03")]
        quarter = shown["2025Q1"][0 if group == "prompts" else 1][key]
        assert months[1] is None
        assert quarter is None or months.count(None) >= 2, (group, key, quarter, months)
    # Unsuppressed readers see the counts themselves.
    assert aggregates.prompt_summary(ids, parse_period("2025-02"))["shown"] == 2
