"""Prompts from the records: facts, the panel on the client page, naloxone offers."""

from __future__ import annotations

import datetime as dt

from salus.care.models import PromptCheck
from salus.care.prompts import facts_for, risk_prompts
from salus.core.models import AuditEvent
from salus.services.actions import do_end_ost_episode, do_record_overdose, do_start_ost_episode


def test_it_builds_facts_from_contacts_ost_and_overdoses(program, record_contact, today):
    c = record_contact(program.site_a, raw_uic="FACT1980M", when=today - dt.timedelta(days=3),
                       uses_alone=True, naloxone_kits_given=1, overdose_since_last_contact=True)
    client = c.client
    ep = do_start_ost_episode("test", client=client, site=program.site_a, medication="methadone",
                              start_date=today - dt.timedelta(days=60))
    do_end_ost_episode("test", ep, end_date=today - dt.timedelta(days=10), end_reason="voluntary")
    do_record_overdose("test", client=client, site=program.site_a, date=today - dt.timedelta(days=2),
                       involvement="witnessed", naloxone_given=True, naloxone_kits_used=1, outcome="survived",
                       emergency_called=True)
    f = facts_for(client, program.worker_a, today)
    assert f.uses_alone == [(today - dt.timedelta(days=3), True)]
    assert f.left_treatment_on == [today - dt.timedelta(days=10)]
    assert f.naloxone_used_on == [today - dt.timedelta(days=2)]
    # A witnessed overdose is not the client's own; the contact's flag is.
    assert f.overdose_on == [today - dt.timedelta(days=3)]
    codes = [p.code for p in risk_prompts(client, program.worker_a, today)]
    assert codes == ["left_treatment", "overdose", "uses_alone", "naloxone_used"]


def test_it_does_not_read_facts_recorded_at_a_site_the_worker_cannot_see(program, record_contact, today):
    record_contact(program.site_a, raw_uic="TWOS1980M", when=today, naloxone_kits_given=1)
    c = record_contact(program.site_b, raw_uic="TWOS1980M", when=today,
                       released_from_detention_on=today - dt.timedelta(days=1), naloxone_kits_given=1)
    assert [p.code for p in risk_prompts(c.client, program.worker_a, today)] == []
    assert [p.code for p in risk_prompts(c.client, program.worker_b, today)] == ["released"]


def test_it_prompts_nothing_for_a_role_without_care_view(program, released_client, today):
    assert risk_prompts(released_client, program.analyst, today) == []


def test_it_shows_the_panel_on_the_care_page_and_counts_the_showing_once_a_day(login, program, released_client):
    c = login(program.worker_a)
    url = f"/care/clients/{released_client.id}/"
    r = c.get(url)
    assert r.status_code == 200
    body = r.content.decode()
    assert 'data-rule="released"' in body and 'data-rule="no_naloxone"' in body
    assert "most dangerous time" in body
    c.get(url)
    checks = PromptCheck.objects.filter(client=released_client)
    assert checks.count() == 1
    assert checks.get().rule_codes == ["no_naloxone", "released"]
    assert AuditEvent.objects.filter(action="client.view", object_id=str(released_client.id)).count() == 2


def test_it_records_naloxone_offered_and_accepted(login, program, released_client):
    c = login(program.worker_a)
    c.get(f"/care/clients/{released_client.id}/")
    r = c.post(f"/care/clients/{released_client.id}/naloxone/", {"accepted": "yes"})
    assert r.status_code == 302
    check = PromptCheck.objects.get(client=released_client)
    assert check.naloxone_offered is True and check.naloxone_accepted is True
    assert AuditEvent.objects.filter(action="care.naloxone_offer").count() == 1


def test_it_refuses_the_care_page_of_a_client_at_another_site(login, program, released_client):
    assert login(program.worker_b).get(f"/care/clients/{released_client.id}/").status_code == 404


def test_it_renders_the_panel_through_the_include_for_the_client_page(rf, program, released_client):
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = program.worker_a
    html = render_to_string("care/client_panel.html", {"client": released_client}, request=request)
    assert 'data-rule="released"' in html
    request.user = program.analyst
    assert "care-panel" not in render_to_string("care/client_panel.html", {"client": released_client}, request=request)


def test_it_returns_only_to_a_page_of_this_site_after_a_post(login, program, released_client):
    c = login(program.worker_a)
    r = c.post(f"/care/clients/{released_client.id}/naloxone/", {"accepted": "no", "next": "/\\\\evil.example/"})
    assert r["Location"] == f"/care/clients/{released_client.id}/"
    r = c.post(f"/care/clients/{released_client.id}/goals/", {"rung": "stop", "next": f"/clients/{released_client.id}/"})
    assert r["Location"] == f"/clients/{released_client.id}/"


def test_it_lists_high_risk_windows_only_at_the_users_sites(program, record_contact, today):
    from salus.care.prompts import high_risk_rows

    here = record_contact(program.site_a, raw_uic="HERE1990F", when=today,
                          left_treatment_on=today - dt.timedelta(days=3)).client
    there = record_contact(program.site_b, raw_uic="THER1990F", when=today,
                           released_from_detention_on=today - dt.timedelta(days=20)).client
    old = record_contact(program.site_a, raw_uic="OLDR1990F", when=today,
                         released_from_detention_on=today - dt.timedelta(days=40)).client
    assert [r["client"] for r in high_risk_rows(program.coordinator_a, today)] == [here]
    rows = high_risk_rows(program.manager, today)
    # Weeks 1-2 first.
    assert [r["client"] for r in rows] == [here, there] and rows[0]["urgent"] and not rows[1]["urgent"]
    assert old not in [r["client"] for r in rows]
