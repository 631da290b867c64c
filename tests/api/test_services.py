"""Referrals, OST episodes and doses, overdose events, sites and stock through the API."""

import datetime as dt
import json

import pytest

from salus.core.models import AuditEvent
from salus.services.models import OSTDose, OSTEpisode, OverdoseEvent, Referral

RAW = "MAJO1985M"


def _fields(response) -> set[str]:
    return {item["field"] for item in json.loads(response.content)["detail"]}


@pytest.fixture
def client_a(program, record_contact):
    return record_contact(program.site_a, RAW, when=dt.date(2025, 3, 1)).client


# Referrals

def test_it_makes_and_follows_up_a_referral(api, program, client_a):
    made = api.post("/referrals", {"client": str(client_a.id), "site": "NA1", "service": "prep",
                                   "made_on": "2025-03-01", "note": "prefers mornings"}, as_="worker_a")
    assert made.status_code == 201
    ref_id = made.json()["id"]
    assert (made.json()["status"], made.json()["note"]) == ("made", "prefers mornings")
    done = api.patch(f"/referrals/{ref_id}", {"status": "attended", "outcome_on": "2025-03-08"}, as_="coordinator_a")
    assert done.status_code == 200
    ref = Referral.objects.get(pk=ref_id)
    assert (ref.status, ref.outcome_on) == ("attended", dt.date(2025, 3, 8))
    assert AuditEvent.objects.filter(action="referral.update", object_id=ref_id).count() == 1
    listed = api.get("/referrals?status=attended", as_="worker_a").json()
    assert [r["id"] for r in listed["items"]] == [ref_id]
    assert api.get("/referrals?status=made", as_="worker_a").json()["count"] == 0
    assert api.get("/referrals", as_="worker_b").json()["count"] == 0


def test_it_hides_another_sites_referral(api, program, client_a):
    ref_id = api.post("/referrals", {"client": str(client_a.id), "site": "NA1", "service": "ost"}, as_="worker_a").json()["id"]
    assert api.patch(f"/referrals/{ref_id}", {"status": "lost"}, as_="worker_b").status_code == 404
    assert api.patch(f"/referrals/{ref_id}", {"status": "lost"}, as_="analyst").status_code == 403
    assert api.patch(f"/referrals/{ref_id}", {"status": "lost"}).status_code == 401
    assert Referral.objects.get(pk=ref_id).status == "made"


@pytest.mark.parametrize(("body", "field"), [
    ({"service": "spa"}, "service"), ({"client": "nope"}, "client"),
    ({"client": "2f6a3a40-0000-4000-8000-000000000000"}, "client"), ({"made_on": "2999-01-01"}, "made_on"),
    ({"site": "NOPE"}, "site"), ({"note": "x" * 3000}, "note"), ({"colour": "red"}, "colour"),
])
def test_it_names_bad_referral_input(api, program, client_a, body, field):
    full = {"client": str(client_a.id), "site": "NA1", "service": "ost", **body}
    response = api.post("/referrals", full, as_="worker_a")
    assert response.status_code == 422
    assert field in _fields(response)


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "done"}, "status"), ({"status": "attended", "outcome_on": "2025-02-01"}, "outcome_on"),
    ({"status": "attended", "outcome_on": "March"}, "outcome_on"), ({}, "status"),
    ({"status": "attended", "made_on": "2025-03-01"}, "made_on"),
])
def test_it_names_bad_referral_updates(api, program, client_a, body, field):
    ref_id = api.post("/referrals", {"client": str(client_a.id), "site": "NA1", "service": "ost",
                                     "made_on": "2025-03-01"}, as_="worker_a").json()["id"]
    response = api.patch(f"/referrals/{ref_id}", body, as_="worker_a")
    assert response.status_code == 422
    assert field in _fields(response)


def test_it_will_not_refer_a_client_the_user_cannot_see(api, program, record_contact):
    other = record_contact(program.site_b, "FATI1990F").client
    response = api.post("/referrals", {"client": str(other.id), "site": "NA1", "service": "ost"}, as_="worker_a")
    assert (response.status_code, _fields(response)) == (422, {"client"})
    assert Referral.objects.count() == 0


# OST

def test_it_runs_an_ost_episode_from_start_to_end(api, program, client_a):
    started = api.post("/ost-episodes", {"client": str(client_a.id), "site": "NA1", "medication": "methadone",
                                         "start_date": "2025-03-01"}, as_="clinician_a")
    assert started.status_code == 201
    ep_id = started.json()["id"]
    dose = api.post(f"/ost-episodes/{ep_id}/doses", {"date": "2025-03-02", "dose_mg": "40.5", "phase": "induction",
                                                      "take_home_doses": 2}, as_="clinician_a")
    assert dose.status_code == 201
    assert dose.json()["dose_mg"] == "40.50"
    assert OSTDose.objects.get().dose_mg == pytest.approx(40.5)
    second = api.post("/ost-episodes", {"client": str(client_a.id), "site": "NA1", "medication": "buprenorphine",
                                        "start_date": "2025-03-03"}, as_="clinician_a")
    assert (second.status_code, _fields(second)) == (422, {"client"})
    ended = api.post(f"/ost-episodes/{ep_id}/end", {"end_date": "2025-03-20", "end_reason": "transferred"}, as_="manager")
    assert ended.status_code == 200
    assert (ended.json()["end_date"], ended.json()["doses_recorded"]) == ("2025-03-20", 1)
    again = api.post(f"/ost-episodes/{ep_id}/end", {"end_date": "2025-03-21", "end_reason": "other"}, as_="manager")
    assert (again.status_code, _fields(again)) == (422, {"end_date"})
    listed = api.get("/ost-episodes", as_="clinician_a").json()["items"]
    assert [(e["doses_recorded"], e["last_dose"]["dose_mg"]) for e in listed] == [(1, "40.50")]
    assert api.get("/ost-episodes?open_only=true", as_="clinician_a").json()["count"] == 0
    assert api.get("/ost-episodes?date_from=2025-03-01&date_to=2025-03-05", as_="clinician_a").json()["count"] == 1
    assert api.get("/ost-episodes?date_from=2025-04-01", as_="clinician_a").json()["count"] == 0


def test_it_keeps_ost_to_clinical_roles_at_the_site(api, program, client_a):
    body = {"client": str(client_a.id), "site": "NA1", "medication": "methadone", "start_date": "2025-03-01"}
    assert api.post("/ost-episodes", body, as_="worker_a").status_code == 403
    assert api.get("/ost-episodes", as_="worker_a").status_code == 403
    assert api.get("/ost-episodes", as_="analyst").status_code == 403
    ep_id = api.post("/ost-episodes", body, as_="clinician_a").json()["id"]
    dose = {"date": "2025-03-02", "dose_mg": "40", "phase": "induction"}
    assert api.post(f"/ost-episodes/{ep_id}/doses", dose, as_="worker_a").status_code == 403
    assert api.post(f"/ost-episodes/{ep_id}/doses", dose, as_="worker_b").status_code == 403
    assert OSTDose.objects.count() == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"dose_mg": "-1"}, "dose_mg"), ({"dose_mg": "2500"}, "dose_mg"), ({"dose_mg": "1.234"}, "dose_mg"),
    ({"dose_mg": "lots"}, "dose_mg"), ({"phase": "peak"}, "phase"), ({"date": "2025-02-01"}, "date"),
    ({"date": "2999-01-01"}, "date"), ({"take_home_doses": -1}, "take_home_doses"), ({"extra": 1}, "extra"),
])
def test_it_names_bad_dose_input(api, program, client_a, body, field):
    ep = OSTEpisode.objects.create(client=client_a, site=program.site_a, medication="methadone",
                                   start_date=dt.date(2025, 3, 1))
    full = {"date": "2025-03-02", "dose_mg": "40", "phase": "maintenance", **body}
    response = api.post(f"/ost-episodes/{ep.id}/doses", full, as_="clinician_a")
    assert response.status_code == 422
    assert field in _fields(response)
    assert OSTDose.objects.count() == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"medication": "morphine"}, "medication"), ({"start_date": "2025-02-30"}, "start_date"),
    ({"client": "x"}, "client"), ({"site": ""}, "site"),
])
def test_it_names_bad_episode_input(api, program, client_a, body, field):
    full = {"client": str(client_a.id), "site": "NA1", "medication": "methadone", "start_date": "2025-03-01", **body}
    response = api.post("/ost-episodes", full, as_="clinician_a")
    assert response.status_code == 422
    assert field in _fields(response)


def test_it_refuses_an_end_before_the_start(api, program, client_a):
    ep = OSTEpisode.objects.create(client=client_a, site=program.site_a, medication="methadone",
                                   start_date=dt.date(2025, 3, 1))
    response = api.post(f"/ost-episodes/{ep.id}/end", {"end_date": "2025-02-01", "end_reason": "voluntary"},
                        as_="clinician_a")
    assert (response.status_code, _fields(response)) == (422, {"end_date"})
    bad_reason = api.post(f"/ost-episodes/{ep.id}/end", {"end_date": "2025-03-02", "end_reason": "bored"},
                          as_="clinician_a")
    assert (bad_reason.status_code, _fields(bad_reason)) == (422, {"end_reason"})


# Overdoses

def test_it_records_an_overdose_in_a_contact(api, program, record_contact):
    contact = record_contact(program.site_a, RAW, when=dt.date(2025, 3, 1))
    body = {"client": str(contact.client_id), "site": "NA1", "date": "2025-02-27", "involvement": "witnessed",
            "naloxone_kits_used": 2, "outcome": "survived", "emergency_called": True, "contact": str(contact.id)}
    response = api.post("/overdoses", body, as_="worker_a")
    assert response.status_code == 201
    ev = OverdoseEvent.objects.get()
    assert (ev.naloxone_given, ev.naloxone_kits_used, ev.contact_id) == (True, 2, contact.id)
    assert api.get("/overdoses?date_from=2025-02-01&date_to=2025-02-28", as_="worker_a").json()["count"] == 1
    assert api.get("/overdoses?date_from=2025-03-01", as_="worker_a").json()["count"] == 0
    assert api.get("/overdoses", as_="worker_b").json()["count"] == 0
    assert api.get("/overdoses", as_="analyst").status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({"involvement": "heard"}, "involvement"), ({"outcome": "fine"}, "outcome"),
    ({"naloxone_kits_used": -1}, "naloxone_kits_used"), ({"date": "2999-01-01"}, "date"),
    ({"contact": "2f6a3a40-0000-4000-8000-000000000000"}, "contact"), ({"emergency_called": "maybe"}, "emergency_called"),
])
def test_it_names_bad_overdose_input(api, program, client_a, body, field):
    full = {"client": str(client_a.id), "site": "NA1", "date": "2025-03-01", "involvement": "experienced", **body}
    response = api.post("/overdoses", full, as_="worker_a")
    assert response.status_code == 422
    assert field in _fields(response)
    assert OverdoseEvent.objects.count() == 0


# Sites and stock

def test_it_lists_the_users_sites(api, program):
    assert [s["code"] for s in api.get("/sites", as_="worker_a").json()["items"]] == ["NA1"]
    assert [s["code"] for s in api.get("/sites", as_="analyst").json()["items"]] == ["NA1", "SB1"]
    assert api.get("/sites?site=SB1", as_="manager").json()["items"][0]["area"] == "XL/SOUTH/S1"


def test_it_shows_stock_at_the_users_sites(api, program, commodities, record_contact):
    record_contact(program.site_a, RAW, when=dt.date(2025, 3, 1), syringes_given=25)
    levels = api.get("/stock?limit=500", as_="worker_a").json()["items"]
    assert {lv["site"] for lv in levels} == {"NA1"}
    syringes = next(lv for lv in levels if lv["commodity"] == "syringe")
    assert (syringes["quantity"], syringes["needs_reconciling"]) == (975, False)
    moves = api.get("/stock/movements?date_from=2025-03-01", as_="worker_a").json()["items"]
    assert [(m["commodity"], m["quantity"]) for m in moves] == [("syringe", -25)]
    assert api.get("/stock", as_="analyst").status_code == 403
    assert api.get("/stock?site=SB1", as_="worker_a").status_code == 422


def test_it_lists_a_page_in_a_fixed_number_of_queries(api, program, record_contact, django_assert_max_num_queries):
    from salus.services.actions import do_record_dose, do_start_ost_episode

    for i in range(12):
        client = record_contact(program.site_a, f"A{chr(65 + i)}BC1990F", when=dt.date(2025, 3, 1)).client
        ep = do_start_ost_episode("test", client=client, site=program.site_a, medication="methadone",
                                  start_date=dt.date(2025, 3, 1))
        do_record_dose("test", ep, date=dt.date(2025, 3, 2), dose_mg=30, phase="induction")
    # Token, page, count, links/doses: the same handful whatever the page size.
    for path in ("/clients?limit=500", "/ost-episodes?limit=500", "/contacts?limit=500"):
        with django_assert_max_num_queries(10):
            assert api.get(path, as_="clinician_a").json()["count"] == 12
