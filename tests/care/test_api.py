"""The care API: same permission rules as the web pages."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from salus.care.models import Goal, PromptCheck, RightsReport
from salus.core.actions import do_create_api_token
from salus.core.models import AuditEvent


@pytest.fixture
def api():
    tokens = {}

    def call(user, method, path, body=None):
        if user.pk not in tokens:
            tokens[user.pk] = do_create_api_token("test", user, "t")[1]
        c = Client(HTTP_AUTHORIZATION=f"Bearer {tokens[user.pk]}")
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
        return getattr(c, method)(f"/api/v1/care{path}", **kwargs)

    return call


def test_it_returns_prompts_and_records_a_naloxone_offer(api, program, released_client):
    r = api(program.worker_a, "get", f"/clients/{released_client.id}/risk-prompts")
    assert r.status_code == 200
    data = r.json()
    assert [p["rule"] for p in data["prompts"]] == ["released", "no_naloxone"]
    assert data["prompts"][0]["urgent"] is True and "Merrall" in data["prompts"][0]["evidence"]
    r = api(program.worker_a, "post", f"/clients/{released_client.id}/naloxone-offers", {"accepted": False})
    assert r.status_code == 201
    check = PromptCheck.objects.get()
    assert check.naloxone_offered and check.naloxone_accepted is False
    assert api(program.worker_b, "get", f"/clients/{released_client.id}/risk-prompts").status_code == 404
    assert api(program.analyst, "get", f"/clients/{released_client.id}/risk-prompts").status_code == 403


def test_it_notes_goals_and_steps(api, program, released_client):
    r = api(program.worker_a, "post", f"/clients/{released_client.id}/goals", {"rung": "stay_alive"})
    assert r.status_code == 201
    goal_id = r.json()["id"]
    assert api(program.worker_a, "post", f"/clients/{released_client.id}/goals", {"rung": "nope"}).status_code == 422
    assert api(program.worker_a, "post", f"/goals/{goal_id}/events", {"kind": "step"}).status_code == 201
    assert api(program.worker_b, "post", f"/goals/{goal_id}/events", {"kind": "step"}).status_code == 404
    r = api(program.worker_a, "get", f"/clients/{released_client.id}/goals")
    assert [e["kind"] for e in r.json()[0]["events"]] == ["step"]
    assert Goal.objects.count() == 1


def test_it_lists_high_risk_clients_only_at_the_users_sites(api, program, released_client):
    r = api(program.coordinator_a, "get", "/high-risk")
    assert r.status_code == 200 and [row["client"] for row in r.json()] == [str(released_client.id)]
    assert api(program.worker_a, "get", "/high-risk").status_code == 403
    coordinator_b_like = program.worker_b
    assert api(coordinator_b_like, "get", "/high-risk").status_code == 403


def test_it_takes_and_reads_rights_reports_with_the_web_rules(api, program, today):
    body = {"site": "NA1", "occurred_on": today.isoformat(), "area": "XL/NORTH/N1", "violation_type": "violence",
            "perpetrator": "police", "client_wants": ["medical"], "details": "secret words", "consent_advocacy": True}
    r = api(program.worker_a, "post", "/rights-reports", body)
    assert r.status_code == 201
    rid = r.json()["id"]
    assert api(program.worker_b, "post", "/rights-reports", {**body, "site": "NA1"}).status_code == 403
    # The reporter sees the reference only.
    listing = api(program.worker_a, "get", "/rights-reports").json()
    assert [x["id"] for x in listing] == [rid] and "details" not in listing[0]
    assert api(program.worker_a, "get", f"/rights-reports/{rid}").status_code == 404
    assert api(program.coordinator_a, "get", f"/rights-reports/{rid}").status_code == 404
    program.coordinator_a.rights_focal_person = True
    program.coordinator_a.save()
    r = api(program.coordinator_a, "get", f"/rights-reports/{rid}")
    assert r.status_code == 200 and r.json()["details"] == "secret words"
    assert AuditEvent.objects.filter(action="rights.view", object_id=rid).count() == 1
    assert RightsReport.objects.get().taken_by == program.worker_a
    future = {**body, "occurred_on": (today + dt.timedelta(days=1)).isoformat()}
    assert api(program.worker_a, "post", "/rights-reports", future).status_code == 422


def test_it_checks_language_and_lists_feedback(api, program):
    r = api(program.worker_a, "post", "/language/check", {"text": "dirty needles"})
    assert r.status_code == 200 and r.json()[0]["alternatives"][0] == "used needles"
    assert api(program.worker_a, "get", "/feedback").status_code == 403
    assert api(program.coordinator_a, "get", "/feedback").json() == []


def test_it_serves_the_summary_suppressed_and_the_advocacy_counts(api, program, record_contact, today):
    from salus.care import actions

    client = record_contact(program.site_a, raw_uic="SUMA1990F", when=today).client
    actions.do_choose_goal("test", client=client, site=program.site_a, rung="stop", chosen_on=today)
    r = api(program.analyst, "get", "/summary")
    assert r.status_code == 200 and r.json()["suppressed"] is True and r.json()["goals"]["with"] is None
    r = api(program.coordinator_a, "get", "/summary")
    assert r.json()["suppressed"] is False and r.json()["goals"]["with"] == 1
    assert api(program.coordinator_a, "get", "/summary?period=nonsense").status_code == 422
    for _ in range(6):
        actions.do_take_rights_report("test", site=program.site_a, area=program.area_a, occurred_on=today,
                                      violation_type="confiscation", perpetrator="police", client_wants=[],
                                      consent_advocacy=True)
    r = api(program.admin, "get", f"/rights-advocacy?period={today.year}")
    assert r.status_code == 200 and r.json()["total"] == 6 and r.json()["type"] == {"confiscation": 6}
    assert api(program.coordinator_a, "get", "/rights-advocacy").status_code == 403


def test_it_records_you_said_we_did(api, program):
    body = {"site": "NA1", "you_said": "More kits", "we_did": "Doubled the order"}
    assert api(program.coordinator_a, "post", "/feedback/responses", body).status_code == 201
    assert api(program.coordinator_a, "post", "/feedback/responses", {**body, "site": "SB1"}).status_code == 403
    assert [x["we_did"] for x in api(program.manager, "get", "/feedback/responses").json()] == ["Doubled the order"]
    assert api(program.worker_a, "get", "/feedback/responses").status_code == 403
