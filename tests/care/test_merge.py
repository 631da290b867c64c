"""Merging two client records moves their care records too, and nothing stays behind on the
record that was merged away (which nobody can open any more)."""

from __future__ import annotations

import datetime as dt

from salus.care import actions
from salus.care.models import Goal, PromptCheck, RightsReport
from salus.clients.actions import STAYS_WITH_MERGED_RECORD, do_merge_clients
from salus.clients.models import Client


def test_it_moves_goals_prompt_checks_and_rights_reports(program, record_contact, today):
    keep = record_contact(program.site_a, "MAJO1985M").client
    merged = record_contact(program.site_a, "MAJA1985M").client
    goal = actions.do_choose_goal(program.worker_a, client=merged, site=program.site_a, rung="stay_alive", chosen_on=today)
    report = actions.do_take_rights_report(
        program.worker_a, site=program.site_a, area=program.area_a, occurred_on=today, violation_type="confiscation",
        perpetrator="police", client_wants=["legal"], client=merged, today=today,
    )
    yesterday = today - dt.timedelta(days=1)
    # The same worker saw prompts for both records today (a clash), and for the merged one yesterday.
    kept_check = actions.do_note_prompts_shown(program.worker_a, client=keep, site=program.site_a,
                                               rule_codes=["recent_release"], shown_on=today)
    clash = actions.do_note_prompts_shown(program.worker_a, client=merged, site=program.site_a,
                                          rule_codes=["no_naloxone"], shown_on=today)
    actions.do_record_naloxone_offer(program.worker_a, clash, accepted=True)
    earlier = actions.do_note_prompts_shown(program.worker_a, client=merged, site=program.site_a,
                                            rule_codes=["no_naloxone"], shown_on=yesterday)

    do_merge_clients("test", keep, merged)

    goal.refresh_from_db()
    report.refresh_from_db()
    earlier.refresh_from_db()
    kept_check.refresh_from_db()
    assert goal.client_id == keep.id and report.client_id == keep.id and earlier.client_id == keep.id
    # One check per worker and day: the kept row, with the offer recorded on the merged one.
    assert not PromptCheck.objects.filter(pk=clash.pk).exists()
    assert kept_check.naloxone_offered is True and kept_check.naloxone_accepted is True
    assert set(kept_check.rule_codes) == {"recent_release", "no_naloxone"}
    assert not Goal.objects.filter(client=merged).exists() and not RightsReport.objects.filter(client=merged).exists()


def test_no_record_of_any_kind_stays_on_a_merged_away_client(program, record_contact, today):
    """Every model with a foreign key to Client, found from the relations (hidden ones too):
    a model added later without thinking of merges fails here."""
    keep = record_contact(program.site_a, "MAJO1985M").client
    merged = record_contact(program.site_b, "MAJA1985M").client
    actions.do_choose_goal(program.worker_a, client=merged, site=program.site_a, rung="stay_alive", chosen_on=today)
    actions.do_note_prompts_shown(program.worker_a, client=merged, site=program.site_a, rule_codes=["no_naloxone"],
                                  shown_on=today)
    do_merge_clients("test", keep, merged)
    left = {}
    for rel in Client._meta.get_fields(include_hidden=True):
        if rel.one_to_many and rel.field.name == "client" and rel.related_model not in STAYS_WITH_MERGED_RECORD:
            n = rel.related_model._base_manager.filter(client=merged).count()
            if n:
                left[rel.related_model.__name__] = n
    assert left == {}
